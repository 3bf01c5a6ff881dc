"""Runtime kit shared by the services: settings, logging, auth, Kafka, outbox, projections, API factory."""
