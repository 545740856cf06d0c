"""The database: SQLAlchemy schema, engines and sessions, migrations, text search, row reads, counters.

Imports only storage.core."""
