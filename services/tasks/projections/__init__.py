"""Read models: SQLAlchemy tables and the functions that fill them."""
