"""Audit templates, cycles, assignments, responses and sign-off."""
