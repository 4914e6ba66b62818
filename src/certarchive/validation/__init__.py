"""Validation of what enters the registry (Z-1, Z-3): identifiers and case documents."""
