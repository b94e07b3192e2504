"""Long work done as jobs: reminders sent and exports written outside the request, with progress to watch."""
