"""Read side: metric queries over the read models (indexed range queries, no full scans per request)."""
