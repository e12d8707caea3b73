"""The webhook bridge."""

from __future__ import annotations

from ._base import BaseClient


class BridgeMixin(BaseClient):
    """The webhook bridge. methods of :class:`durable_workflow.Client`."""
