"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from typing import Protocol


class MaintenanceAPI(Protocol):
    """System maintenance passes: repair, retention, activity timeouts; the server's metrics."""
