"""Campaigns: planning, peer review and execution of marketing campaigns (issue 17)."""
