"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from typing import Protocol


class BridgeAPI(Protocol):
    """The webhook bridge: idempotent start/signal/update from an external event."""
