"""``{% open_thread_count repo %}``: the number on the model header's Community tab (one query)."""

from __future__ import annotations

from django import template

from discussions.threads import open_count

register = template.Library()


@register.simple_tag
def open_thread_count(repo) -> int:
    return open_count(repo)
