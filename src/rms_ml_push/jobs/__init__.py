"""Orchestration of job runs: schedule, and one module per job."""
