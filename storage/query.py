"""`python -m storage.query TRACK_ID`: the lookup command the README promises, kept at this address.

The command lives with the other command lines (indexer.commands.lookup); this is only its entry point."""

import sys

from indexer.commands.lookup import main

if __name__ == "__main__":
    sys.exit(main())
