"""Schedules: create, list, describe, update, pause, resume, trigger, backfill, history, delete."""

from __future__ import annotations

from ._base import BaseClient


class SchedulesMixin(BaseClient):
    """Schedules methods of :class:`durable_workflow.Client`."""
