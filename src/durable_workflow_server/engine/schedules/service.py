"""The ``Engine`` mixin implementing :class:`.api.ScheduleAPI`."""

from __future__ import annotations

from ..core import EngineCore


class ScheduleCommands(EngineCore):
    """Schedules: specs, fires, overlap policies, the audit history."""
