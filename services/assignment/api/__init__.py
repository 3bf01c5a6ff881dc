"""HTTP API of the assignment service (for the gateway)."""
