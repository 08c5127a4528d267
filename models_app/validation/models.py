"""Validation runs (the state machine lives here; see issue 6)."""
