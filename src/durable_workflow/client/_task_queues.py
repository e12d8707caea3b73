"""Task queues, build-id cohorts and the worker registry."""

from __future__ import annotations

from ._base import BaseClient


class TaskQueuesMixin(BaseClient):
    """Task queues, build-id cohorts and the worker registry. methods of :class:`durable_workflow.Client`."""
