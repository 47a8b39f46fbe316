"""The state store tests, run on SQLite and on PostgreSQL."""
