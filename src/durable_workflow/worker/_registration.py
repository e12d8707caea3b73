"""What a worker tells the server about itself, and the answers by which the server forgot it.

The capabilities it registers with, the process metrics of its registration and heartbeats, the
heartbeat cadence the server asks for, and the stop notice sent after a graceful drain.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..errors import ServerError
from ..protocol import capabilities
from ..protocol.errors import WORKER_NOT_REGISTERED
from ._plane import WorkerPlaneClient

logger = logging.getLogger("durable_workflow.worker")

# What this worker tells the server at registration (``durable_workflow.protocol.capabilities``);
# the query-task capabilities are added only when it will poll query tasks (``worker_capabilities``).
WORKER_CAPABILITIES: tuple[str, ...] = (capabilities.WORKER_CONDITION_WAIT_IDS,)
# How long stop() waits for the server to take its stop notice.
STOP_NOTICE_TIMEOUT = 5.0


def worker_capabilities(answers_queries: bool) -> list[str]:
    """The capabilities a worker registers with."""
    # Only promised when this worker will poll query tasks: the server then sends it
    # queries and pre-accept update validations, and nobody else would answer them.
    if not answers_queries:
        return list(WORKER_CAPABILITIES)
    return [*WORKER_CAPABILITIES, capabilities.WORKER_QUERY_TASKS, capabilities.WORKER_UPDATE_VALIDATION]


def process_metrics(started_monotonic: float, started_at: datetime) -> dict[str, Any]:
    """The ``process_metrics`` of a registration or heartbeat, for a process started then."""
    return {
        # Whole seconds: the published worker shape (``dw worker:describe --json``) says integer.
        "process_uptime_seconds": int(time.monotonic() - started_monotonic),
        "process_id": os.getpid(),
        "process_started_at": started_at.isoformat().replace("+00:00", "Z"),
    }


def heartbeat_interval_of(answer: Mapping[str, Any]) -> float | None:
    """The heartbeat cadence a registration or heartbeat answer asks for, if it names one."""
    # The server's cadence (a third of its liveness window): missing it gets our leases
    # released as a dead worker's.
    interval = answer.get("heartbeat_interval_seconds")
    if isinstance(interval, int) and not isinstance(interval, bool) and interval > 0:
        return float(interval)
    return None


async def send_stop_notice(client: WorkerPlaneClient, worker_id: str) -> None:
    """Tell the server this worker is gone, so what the drain cancelled is released now.

    Without it those tasks would wait for their leases (or the liveness window) to run out.
    Best effort and bounded: a server that cannot be reached does not hold stop().
    """
    try:
        await asyncio.wait_for(
            client.heartbeat_worker(worker_id=worker_id, stopping=True),
            timeout=STOP_NOTICE_TIMEOUT,
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        logger.info("worker %s stop notice not delivered: %s", worker_id, exc)


def is_unregistered(exc: BaseException, status_code: int) -> bool:
    """True for the answer by which the server says it does not know this worker.

    ``status_code`` is the status that route documents for it (412 on polls, 404 on heartbeats),
    recognised even from a server that sends no ``reason``.
    """
    if not isinstance(exc, ServerError):
        return False
    return exc.reason == WORKER_NOT_REGISTERED or (exc.reason is None and exc.status_code == status_code)


def is_transient(exc: ServerError) -> bool:
    """A server answer that waiting may cure: 5xx (restarting, database away) or 429."""
    return exc.status_code is not None and (exc.status_code >= 500 or exc.status_code == 429)
