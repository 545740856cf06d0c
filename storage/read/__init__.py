"""The read side: a data directory opened for reading (Catalog), its loaded indexes, exports."""
