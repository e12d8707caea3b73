"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from typing import Protocol


class ExternalStorageAPI(Protocol):
    """Server-side external payload storage: drivers, offloading over the threshold, the storage test."""
