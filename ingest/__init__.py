"""Ingestion: turn files into pseudonymized, embedded chunks in SQL."""
