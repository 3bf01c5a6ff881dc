"""Access control: the permission catalogue, roles, the organisation tree, staff and role assignments."""
