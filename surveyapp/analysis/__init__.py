"""Completion and gap analysis: pandas in, pandas out. Only views.py and loading.py touch Flask or the database."""
