"""Personal data: the anonymizer (Presidio + recognizers + operators), the secret, pseudonym
restore for the asker, and file names kept private. Used by ingestion and the query path alike;
see docs/architecture.md."""
