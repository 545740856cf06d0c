"""soundalike indexer: turns audio files into embedding vectors."""
