"""Tamper-evident logs: the audit log and the sharing log (H-5.2.4, H-5.2.5)."""
