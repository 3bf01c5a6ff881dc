"""Read models of the summary service (SQLAlchemy, own MetaData)."""
