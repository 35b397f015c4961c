"""PURE: data-quality rules, local-time bucketing, training frames (pandas/numpy only)."""
