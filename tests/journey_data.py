"""Form posts that complete the small test template (tests.factories.SMALL_TEMPLATE)."""

POLICIES_OK = {
    "version": "0",
    "policy_current": "yes",
    "policy_review_date-day": "1",
    "policy_review_date-month": "6",
    "policy_review_date-year": "2026",
    "policy_notes": "All fine",
}
PREVENT_OK = {"version": "0", "prevent_wrap": "yes", "prevent_trained_pct": "95", "prevent_sef": "yes"}
DECLARATION = {
    "headteacher_name": "Ann Head",
    "chair_name": "Cal Chair",
    "declaration_date": ["3", "3", "2026"],
    "confirm": "y",
}
