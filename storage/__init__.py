"""soundalike's store: the database, the FAISS indexes, and the search over them."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("soundalike")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
