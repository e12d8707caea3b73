"""The ``Engine`` mixin implementing :class:`.api.NamespaceAPI`."""

from __future__ import annotations

from ..core import EngineCore


class NamespaceCommands(EngineCore):
    """Namespaces: list, describe, create, update, delete; the external-storage policy."""
