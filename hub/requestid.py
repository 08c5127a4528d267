"""The request id: one per HTTP request or websocket, on every log line and every response.

nginx sets ``X-Request-Id`` to its own ``$request_id`` (deploy/nginx.conf), so its
access log and the hub's lines join on the same id; a sane incoming id is kept,
anything else is replaced by a fresh one. The id lives in a context variable:
asgiref copies the context into the threads that run Django's sync views, so
every line logged while a request is served carries it. Celery tasks carry the
id of the request that queued them (a message header), or their own task id.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

HEADER = "X-Request-Id"
# nginx's $request_id is 32 hex digits; a UUID or any id of these characters is kept. Others
# (too long, spaces, control characters, quotes) would be a log-injection or header-splitting risk.
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def new_id() -> str:
    return uuid.uuid4().hex


def sane_or_new(incoming: str | None) -> str:
    """``incoming`` when it is a sane id, else a fresh one."""
    if incoming and _SANE.fullmatch(incoming):
        return incoming
    return new_id()


def current() -> str:
    """The id of the request (or task) being served, ``-`` outside one."""
    return _current.get()


def bind(request_id: str) -> contextvars.Token:
    return _current.set(request_id)


def unbind(token: contextvars.Token) -> None:
    _current.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record a handler emits (settings.LOGGING attaches it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current()
        # uvicorn's copy of the message with terminal colour codes, for its own formatter (replaced here).
        record.__dict__.pop("color_message", None)
        return True


# --- Celery: the id crosses from the request that queued a task to the worker that runs it ----


def _on_publish(headers=None, **kwargs) -> None:
    if headers is not None and current() != "-":
        headers.setdefault("request_id", current())


def _on_prerun(task_id=None, task=None, **kwargs) -> None:
    if task is None:
        return
    incoming = getattr(task.request, "request_id", None)  # the header _on_publish added
    task.request.hub_request_token = bind(sane_or_new(incoming) if incoming else f"task-{task_id}")


def _on_postrun(task=None, **kwargs) -> None:
    token = getattr(task.request, "hub_request_token", None) if task is not None else None
    if token is not None:
        try:
            unbind(token)
        except ValueError:
            pass  # bound in another context (an eager task inside a request): nothing to undo here


def connect_celery_signals() -> None:
    from celery import signals

    signals.before_task_publish.connect(_on_publish, weak=False)
    signals.task_prerun.connect(_on_prerun, weak=False)
    signals.task_postrun.connect(_on_postrun, weak=False)
