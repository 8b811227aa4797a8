"""The database: the tables (SQL is the source of truth; the FAISS index is derived from it),
sessions, migrations, full-text search, chunk writes and scrubbing. The queries of each use case
live beside it (rag/access.py, rag/jobs.py, rag/service.py...), not here."""
