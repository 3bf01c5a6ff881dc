"""Read models of the campaigns service."""
