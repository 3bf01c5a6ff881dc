"""Audit store: keeps every service's audit records (`crm.audit.records`) in one tamper-evident hash chain."""
