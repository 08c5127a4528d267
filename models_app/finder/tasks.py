"""Celery tasks of the finder (queue ``gpu``): they take ids and call the plain functions in service.py."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections

from models_app.finder import service, work


@shared_task(
    name=service.RANK_TASK,
    soft_time_limit=settings.VALIDATION_SOFT_TIME_LIMIT * 4,
    time_limit=settings.VALIDATION_HARD_TIME_LIMIT * 4,
    ignore_result=True,
)
def rank_find(find_id: int) -> None:
    close_old_connections()
    try:
        work.rank_find(find_id)
    finally:
        close_old_connections()


@shared_task(
    name=service.CONFIRM_TASK,
    soft_time_limit=settings.VALIDATION_SOFT_TIME_LIMIT * 4,
    time_limit=settings.VALIDATION_HARD_TIME_LIMIT * 4,
    ignore_result=True,
)
def confirm_find(find_id: int) -> None:
    close_old_connections()
    try:
        work.confirm_find(find_id)
    finally:
        close_old_connections()
