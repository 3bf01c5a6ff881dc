"""Read models of the assignment service (own SQLAlchemy MetaData)."""
