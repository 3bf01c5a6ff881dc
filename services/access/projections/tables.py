"""Read-model tables (own MetaData): the kit's access tables (`shared.runtime.access.access_tables`, the
shape every service's access directory keeps) and the staff members' display names (kept here only)."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table

from shared.runtime.access import access_tables

metadata = MetaData()
tables = access_tables(metadata, "access_")

staff_profile = Table(
    "access_staff_profile",
    metadata,
    Column("staff_id", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),  # personal data: shown to access managers only
)

READ_MODEL_TABLES = (*tables.all, staff_profile)
