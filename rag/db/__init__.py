"""SQL is the source of truth: every table, and the only place SQL is written."""
