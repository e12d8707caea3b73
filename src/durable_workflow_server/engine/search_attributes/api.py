"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from typing import Protocol


class SearchAttributeAPI(Protocol):
    """The typed search-attribute registry of each namespace."""
