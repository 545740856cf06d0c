"""The write side: the store API (the one place that changes a data directory), its lock, folder syncs."""
