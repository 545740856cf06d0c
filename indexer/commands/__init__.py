"""The command lines: `indexer` (indexer.commands.main) and `python -m storage.query` (indexer.commands.lookup).

The top layer: commands parse arguments, call the library (indexer's pipeline, storage's search and store,
app's server and MPD radio) and format what comes back. Light: imports no torch."""
