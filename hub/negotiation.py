"""Content negotiation for the API (its own module: DRF reads this setting while ``rest_framework.views`` loads)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation


class FallbackNegotiation(DefaultContentNegotiation):
    """Answer JSON when the ``Accept`` header names nothing the API renders, instead of a 406.

    huggingface_hub sends ``Accept: text/plain`` to ``/api/validate-yaml`` and
    reads the body as text; an API whose every answer is JSON serves them best
    with JSON, and a 406 would hide the real answer.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            return renderers[0], renderers[0].media_type
