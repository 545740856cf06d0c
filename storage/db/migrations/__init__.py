"""Schema migrations, one module per version step (v3 = v2 -> v3); storage.db.engine runs them in order."""
