"""HTTP API of the tasks service."""
