"""The golden cases: representative data for every message template (cases.py, and extra/ by
message family), rendered by tests/golden and reused by the tests that check one answer's
details."""
