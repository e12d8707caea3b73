"""Sending a task's outcome (completion or failure) to the server through short outages.

An outcome that never arrives costs a lot: the server only hands the task out again once its
lease expires (minutes), and an activity then runs a second time. So the worker keeps trying:

* the server cannot be reached (``TransportError``, after the client's own quick retries), or
  answers ``503 database_unavailable`` (it is up but cannot reach its database, e.g. while the
  database restarts): retry with backoff until ``DeliveryPolicy.retry_timeout`` seconds
  (``Worker.report_retry_timeout``) have passed, which outlasts a server or database restart;
* the server answers another 5xx or 429: retry a couple of times (``SERVER_ERROR_RETRY_DELAYS``), since
  a server that answers but keeps failing is unlikely to change its mind soon;
* any other answer is definite and is raised to the caller at once.

Outcomes are fenced by lease owner and attempt, so a retried outcome can never be recorded twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..errors import ServerError, TransportError
from ..protocol.errors import DATABASE_UNAVAILABLE
from ._runtime import DeliveryPolicy

logger = logging.getLogger("durable_workflow.worker")

T = TypeVar("T")

# Delays before the 2nd and 3rd attempt when the server answers 5xx/429.
SERVER_ERROR_RETRY_DELAYS = (0.05, 0.2)


def is_unavailable_answer(exc: ServerError) -> bool:
    """True for ``503 database_unavailable``: the server is up but its database is not, for now."""
    return exc.status_code == 503 and exc.reason == DATABASE_UNAVAILABLE


def is_transient_answer(exc: ServerError) -> bool:
    """True for answers worth another attempt: 429 and 5xx."""
    status = exc.status_code or 0
    return status == 429 or status >= 500


async def deliver(policy: DeliveryPolicy, send: Callable[[], Awaitable[T]], what: str) -> T:
    """Await ``send()`` until it succeeds or fails for good (see the module docstring).

    Raises:
        TransportError: The server stayed unreachable for ``policy.retry_timeout`` seconds.
        ServerError: A definite refusal, or a 5xx/429 that outlived its retries.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + policy.retry_timeout
    backoff = policy.backoff
    server_errors = 0
    while True:
        try:
            return await send()
        except TransportError as exc:
            if loop.time() + backoff > deadline:
                raise
            delay, backoff = backoff, min(backoff * 2, policy.backoff_max)
            logger.warning("%s: server unreachable (%s); retrying in %.2fs", what, exc, delay)
        except ServerError as exc:
            if is_unavailable_answer(exc) and loop.time() + backoff <= deadline:
                delay, backoff = backoff, min(backoff * 2, policy.backoff_max)
                logger.warning("%s: server unavailable (%s); retrying in %.2fs", what, exc.reason, delay)
                await asyncio.sleep(delay)
                continue
            if not is_transient_answer(exc) or server_errors >= len(SERVER_ERROR_RETRY_DELAYS):
                raise
            delay = SERVER_ERROR_RETRY_DELAYS[server_errors]
            server_errors += 1
            logger.warning("%s: server answered %s; retrying in %.2fs", what, exc.status_code, delay)
        await asyncio.sleep(delay)
