"""The API's error shape: ``{"error": "<message>", "detail": ...}`` with the right status.

``error`` is a sentence for a person; the Hugging Face clients show it (they
read the ``error`` key and the ``X-Error-Message`` header).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hub.headers import header_safe

log = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """Raise from any view or service called by one: it becomes a JSON error."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."

    def __init__(self, message: str, *, status_code: int = 400, detail=None, code: str | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.extra = detail
        self.error_code = code


def _message(data) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, list) and data:
        return _message(data[0])
    if isinstance(data, dict):
        if "detail" in data:
            return _message(data["detail"])
        for key, value in data.items():
            return f"{key}: {_message(value)}"
    return "Request failed."


def error_response(message: str, status_code: int, detail=None, code: str | None = None) -> JsonResponse:
    response = JsonResponse({"error": message, "detail": detail}, status=status_code)
    response["X-Error-Message"] = header_safe(message)
    if code:
        response["X-Error-Code"] = header_safe(code)
    return response


def refused_body_error(exc: SuspiciousOperation) -> ApiError:
    """Django's refusals of a request body (they are not DRF exceptions, so they would be 500s here)."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return ApiError(
            f"The request body is larger than {limit // 2**20} MiB, the limit for API requests; "
            "upload large files through LFS or the upload API.",
            status_code=413,
            detail={"limit_bytes": limit},
        )
    return ApiError(f"Bad request: {exc}", status_code=400)


def exception_handler(exc, context):
    if isinstance(exc, SuspiciousOperation):
        exc = refused_body_error(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) else "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, ApiError):
        response = Response({"error": exc.message, "detail": exc.extra}, status=exc.status_code)
        if exc.error_code:
            response["X-Error-Code"] = header_safe(exc.error_code)
    else:
        response = drf_exception_handler(exc, context)
        if response is None:
            log.exception("unhandled API error", exc_info=exc)
            response = Response({"error": "Internal error; it has been logged.", "detail": None}, status=500)
        else:
            data = response.data
            detail = data if isinstance(data, dict) and set(data) != {"detail"} else None
            response.data = {"error": _message(data), "detail": detail}
    response["X-Error-Message"] = header_safe(response.data["error"])
    return response


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
