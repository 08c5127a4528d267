"""``{% open_thread_count repo %}``: the number on the model header's Community tab (one query)."""

from __future__ import annotations

from django import template

from discussions.models import Thread

register = template.Library()


@register.simple_tag
def open_thread_count(repo) -> int:
    # A draft pull request counts as open, as in the list's "open" filter (threads.threads_list).
    return Thread.objects.filter(room__repo=repo, status__in=(Thread.Status.OPEN, Thread.Status.DRAFT)).count()
