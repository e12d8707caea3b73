"""The ``Engine`` mixin implementing :class:`.api.TaskQueueAPI`."""

from __future__ import annotations

from ..core import EngineCore


class TaskQueueCommands(EngineCore):
    """Task queues, build-id cohorts and the worker registry's operator view."""
