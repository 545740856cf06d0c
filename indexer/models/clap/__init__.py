"""LAION CLAP: audio and words in one space (indexer.models.clap.spec)."""
