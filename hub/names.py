"""Rules for user and repo names: each one is a URL segment and an HF namespace."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}$")

# Top-level URL segments a user may not take, or their profile would shadow a page.
RESERVED_NAMES = frozenset(
    {
        "accounts",
        "admin",
        "api",
        "docs",
        "healthz",
        "login",
        "logout",
        "media",
        "models",
        "new",
        "settings",
        "signup",
        "static",
        "ws",
        "leaderboards",
        "leaderboard",
        "search",
        "users",
        "about",
        "datasets",
        "spaces",
        "organizations",
        "join",
        "help",
        "status",
        "xet",  # the Xet CAS routes live under /xet/
    }
)


def validate_username(value: str) -> None:
    if not NAME_RE.match(value) or value.endswith(".git") or ".." in value:
        raise ValidationError(
            "Use 1-96 letters, digits, '-', '_' or '.', not starting with '.' or '-'.", code="invalid_name"
        )
    if value.lower() in RESERVED_NAMES:
        raise ValidationError(f"'{value}' is reserved.", code="reserved_name")
