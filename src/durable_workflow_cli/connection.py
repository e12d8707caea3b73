"""The one connection seam: resolved settings → an SDK ``Client``, with the preflight check.

Every API call of every command goes through a ``durable_workflow.Client`` made here, so the
CLI and the SDK share one implementation of each call. Caller payloads travel as plain JSON
(``plain_json_payloads``), as the reference CLI sends them.
"""

from __future__ import annotations

import sys
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


# Marks the log handlers this module added, so a second run in one process replaces them.
_HANDLER_MARK = "_dw_cli_handler"
SDK_LOGGER = "durable_workflow"


def route_sdk_logs(verbose: int) -> None:
    """Keep the SDK's log lines (``GET ... failed (ConnectError); retrying``) off the terminal
    unless asked (``-v``: warnings, ``-vv``: info, ``-vvv``: debug, with httpx's own lines).

    With no handler anywhere, Python prints warnings through its last-resort handler, above
    the CLI's error block, which already says what went wrong. A ``NullHandler`` on the SDK's
    logger stops that; records still propagate, so an embedding application's logging sees them.
    """
    import logging

    level = {0: logging.NOTSET, 1: logging.WARNING, 2: logging.INFO}.get(verbose, logging.DEBUG)
    for name, shown in ((SDK_LOGGER, verbose > 0), ("httpx", verbose > 2)):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
            logger.removeHandler(old)
        handler: logging.Handler = logging.NullHandler()
        if shown:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        setattr(handler, _HANDLER_MARK, True)
        logger.addHandler(handler)
        logger.setLevel(level if shown else logging.NOTSET)


@asynccontextmanager
async def connect(settings: Settings, runtime: Runtime, *, verbose: int = 0) -> AsyncIterator[Client]:
    """An SDK client for ``settings``, closed at the end of the block; the SDK's log lines
    are shown only with ``verbose`` (see :func:`route_sdk_logs`)."""
    import httpx

    from durable_workflow.client import Client
    from durable_workflow.retry_policy import TransportRetryPolicy

    route_sdk_logs(verbose)

    transport = runtime.transport
    if transport is None and not settings.tls_verify:
        transport = httpx.AsyncHTTPTransport(verify=False)
    client = Client(
        settings.server,
        token=settings.token,
        namespace=settings.namespace,
        transport=transport,
        plain_json_payloads=True,
        # The SDK's retry backoff waits through the runtime, as the CLI's pollers do.
        retry_policy=TransportRetryPolicy(sleep=runtime.sleep),
    )
    try:
        yield client
    finally:
        await client.aclose()


async def preflight(client: Client, *, worker_plane: bool = False) -> None:
    """Read ``/cluster/info`` and refuse (exit 8) an incompatible server."""
    info = await client.get_cluster_info(timeout=PREFLIGHT_TIMEOUT_SECONDS)
    compat.check(info, cli_version=cli_version(), worker_plane=worker_plane)
