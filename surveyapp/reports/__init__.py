"""The committee report: a cycle's findings for a council committee, as Word, PDF or HTML."""
