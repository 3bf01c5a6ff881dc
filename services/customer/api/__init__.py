"""HTTP API of the customer service (for the frontend gateway)."""
