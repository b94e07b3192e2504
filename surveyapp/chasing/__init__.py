"""Chasing non-responders: the lead's live tracker, reminders and their log."""
