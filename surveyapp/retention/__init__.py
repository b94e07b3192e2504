"""Personal data kept no longer than needed: pseudonymising what is older than the retention period."""
