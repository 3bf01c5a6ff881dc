"""Customer service: the customer pool, lifecycle, regions, 360° detail, remarks/tags/notes, export, history."""
