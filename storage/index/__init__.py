"""The derived indexes: FAISS track indexes, segment indexes, their increments, hubs, the catalog map, GPU.

Built from the database (storage.db) and rebuildable from it; written only through storage.write."""
