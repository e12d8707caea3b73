"""The ``Engine`` mixin implementing :class:`.api.BridgeAPI`."""

from __future__ import annotations

from ..core import EngineCore


class BridgeCommands(EngineCore):
    """The webhook bridge: idempotent start/signal/update from an external event."""
