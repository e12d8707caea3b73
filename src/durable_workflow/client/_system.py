"""Health and cluster information."""

from __future__ import annotations

from typing import Any

from ..protocol import routes
from ._base import BaseClient


class SystemMixin(BaseClient):
    """Server-level reads of :class:`durable_workflow.Client`."""

    async def health(self) -> dict[str, Any]:
        """Call ``GET /api/health``: ``{"status": "serving", "checks": {...}, ...}``.

        A degraded server answers 503, which is retried and then raised as ``ServerError``.
        """
        return await self._request_object("GET", routes.HEALTH, operation="health")

    async def get_cluster_info(self, *, timeout: float | None = None) -> dict[str, Any]:
        """Call ``GET /api/cluster/info``: versions, protocol manifests, capabilities, limits.

        The advertised worker long-poll hold time is remembered to size poll timeouts.
        ``timeout`` bounds this one call (the CLI's preflight check uses 5 s).
        """
        data = await self._request_object(
            "GET", routes.CLUSTER_INFO, operation="cluster_info", timeout=timeout
        )
        self._learn_capabilities(data)
        return data
