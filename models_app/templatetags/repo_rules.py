"""Template filters over the repo rules, so pages show only what the user may do (the rules stay in rules.py)."""

from __future__ import annotations

from django import template

from models_app.repos.rules import can_manage

register = template.Library()


@register.filter
def manages(user, repo) -> bool:
    """``{% if user|manages:repo %}``: the owner, an org admin or staff."""
    return can_manage(user, repo)
