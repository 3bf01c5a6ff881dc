"""KYC read models: the case queue and per-customer completion, fed from the event store's log."""
