"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from typing import Protocol


class TaskQueueAPI(Protocol):
    """Task queues, build-id cohorts and the worker registry's operator view."""
