"""Presidio recognizers of our own, one per file."""
