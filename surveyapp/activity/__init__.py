"""The activity log: an append-only record of every change of state."""
