"""Read models of the customer service."""
