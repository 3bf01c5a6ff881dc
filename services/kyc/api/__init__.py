"""KYC HTTP API: queue, case detail, claim/assign/release, document decisions, more info, second review, history."""
