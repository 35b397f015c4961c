"""rms-ml-push: predictions from a restaurant management system, pushed as signed webhooks."""

__version__ = "0.1.0"
