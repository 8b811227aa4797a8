"""What callers do, one module per resource: the API's routers and the CLI's commands call
these and only shape their answers. No adapter opens a session or writes SQL."""
