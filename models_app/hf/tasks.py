"""Celery tasks of the Hugging Face protocol: checking a directly uploaded LFS object (``lfs_staged.py``)."""

from __future__ import annotations

from celery import shared_task

from models_app.hf import lfs_staged


# On the default queue (the housekeeping worker), not behind validation jobs. acks_late (settings):
# a worker killed mid-hash leaves the message to another, which hashes the staged object again.
@shared_task(name=lfs_staged.VERIFY_TASK, ignore_result=True, soft_time_limit=6 * 3600, time_limit=6 * 3600 + 60)
def verify_staged_object(grant: dict) -> str:
    return lfs_staged.verify_staged(grant)
