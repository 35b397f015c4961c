"""Customer analytics: RFM segments, churn probability and 90-day expected value (pure)."""
