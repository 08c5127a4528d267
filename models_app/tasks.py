"""Celery tasks of the model store (the validation jobs live in models_app/validation/tasks.py)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from models_app.hf import tasks as hf_tasks  # noqa: F401 - workers register lfs.verify_staged through this import
from models_app.sweep import sweep_storage


# Named outside ``models_app.validation.tasks.*``: the default queue, not behind validation jobs' routing.
@shared_task(name="storage.sweep", ignore_result=True, soft_time_limit=1800, time_limit=1900)
def storage_sweep() -> dict:
    return asdict(sweep_storage())
