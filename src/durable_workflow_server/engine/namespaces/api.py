"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from typing import Protocol


class NamespaceAPI(Protocol):
    """Namespaces: list, describe, create, update, delete; the external-storage policy."""
