"""The one connection seam: resolved settings → an SDK ``Client``, with the preflight check.

Every API call of every command goes through a ``durable_workflow.Client`` made here, so the
CLI and the SDK share one implementation of each call. Caller payloads travel as plain JSON
(``plain_json_payloads``), as the reference CLI sends them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import TYPE_CHECKING

from . import compat
from .runtime import Runtime
from .settings import Settings

if TYPE_CHECKING:
    from durable_workflow.client import Client

PREFLIGHT_TIMEOUT_SECONDS = 5.0
FALLBACK_VERSION = "0.0.0"


@lru_cache(maxsize=1)
def cli_version() -> str:
    """The version this CLI presents to servers: the installed distribution's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("durable-workflow")
    except PackageNotFoundError:
        return FALLBACK_VERSION


@asynccontextmanager
async def connect(settings: Settings, runtime: Runtime) -> AsyncIterator[Client]:
    """An SDK client for ``settings``, closed at the end of the block."""
    import httpx

    from durable_workflow.client import Client

    transport = runtime.transport
    if transport is None and not settings.tls_verify:
        transport = httpx.AsyncHTTPTransport(verify=False)
    client = Client(
        settings.server,
        token=settings.token,
        namespace=settings.namespace,
        transport=transport,
        plain_json_payloads=True,
    )
    try:
        yield client
    finally:
        await client.aclose()


async def preflight(client: Client, *, worker_plane: bool = False) -> None:
    """Read ``/cluster/info`` and refuse (exit 8) an incompatible server."""
    info = await client.get_cluster_info(timeout=PREFLIGHT_TIMEOUT_SECONDS)
    compat.check(info, cli_version=cli_version(), worker_plane=worker_plane)
