"""The ``Engine`` mixin implementing :class:`.api.ExternalStorageAPI`."""

from __future__ import annotations

from ..core import EngineCore


class ExternalStorageCommands(EngineCore):
    """Server-side external payload storage: drivers, offloading over the threshold, the storage test."""
