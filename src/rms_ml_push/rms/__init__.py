"""The READ side: a read-only engine on the RMS database, the table map, extract queries."""
