"""Admin-only system maintenance: repair, retention and activity-timeout passes."""

from __future__ import annotations

from ._base import BaseClient


class MaintenanceMixin(BaseClient):
    """Admin-only system maintenance methods of :class:`durable_workflow.Client`."""
