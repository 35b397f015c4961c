"""Delivery: payloads, signing and retry policy (pure); sender, breaker and dispatcher (I/O)."""
