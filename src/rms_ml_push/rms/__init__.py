"""The READ side: a read-only engine on the RMS database, the table map, extract queries.

Start with :meth:`rms_ml_push.rms.extract.RmsReader.from_settings`; it never writes and
never selects a column outside the data contract (no PII).
"""
