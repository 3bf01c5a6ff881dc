"""KYC service: review of submitted account-opening documents (four-eyes, SLA, completion)."""
