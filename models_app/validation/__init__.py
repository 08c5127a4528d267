"""Proving a revision: safety scan, the reference suite, the sandboxed runner.

The run state machine and its Celery tasks, reports and leaderboards. Runs in
workers; only views.py and api.py are served by the web tier, and they never
import torch or transformers.
"""
