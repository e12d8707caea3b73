"""The ``Engine`` mixin implementing :class:`.api.SearchAttributeAPI`."""

from __future__ import annotations

from ..core import EngineCore


class SearchAttributeCommands(EngineCore):
    """The typed search-attribute registry of each namespace."""
