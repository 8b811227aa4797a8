"""Quality measurements: `rag eval ...` commands over datasets in known formats."""
