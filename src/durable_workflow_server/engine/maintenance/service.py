"""The ``Engine`` mixin implementing :class:`.api.MaintenanceAPI`."""

from __future__ import annotations

from ..core import EngineCore


class MaintenanceCommands(EngineCore):
    """System maintenance passes: repair, retention, activity timeouts; the server's metrics."""
