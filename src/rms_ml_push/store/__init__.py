"""The service's OWN state (never the RMS): outbox, job runs, leases, model registry."""
