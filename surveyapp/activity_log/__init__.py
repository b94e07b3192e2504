"""The lead's reading of the activity log: the page, its filters, the CSV and xlsx exports and the CLI export.

Kept apart from ``surveyapp.activity``, which every area writes to, because reading the log joins it to
users, establishments, trusts and cycles: the writer stays a leaf that imports no other area.
"""
