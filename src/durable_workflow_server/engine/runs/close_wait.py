"""Waiting on the server for a workflow's close: the blocking form of describe.

``GET /workflows/{id}?wait_seconds=N`` holds the describe until the instance's current run is
closed for good (closed, and not continued as new: a continued run's successor carries the
result) or ``N`` seconds pass, bounded by the server's long-poll limit. Nothing polls: a run's
close adds the wake key :func:`close_key` of its instance to the closing transaction, which wakes
the waiter after commit in this process and, through ``LISTEN``/``NOTIFY``, in every other server
process sharing the database (the long poll's re-probe is only the safety net). In this process
the close hands its waiters the run's describe with the wake-up (:func:`closed_describe`), so
they answer without reading it back; woken from elsewhere, a waiter probes. Keyed by the
instance rather than the run, so a continue-as-new wakes the waiter, which then keeps waiting for
the successor under the same key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, cast

from ...store.rows import RunRow
from ..errors import DomainError
from ..event_wait import wait_event
from ..shapes import DescribeWorkflowBody
from ..transaction import WakeKey
from ..waiters import Waiters, long_poll
from .views import RunInstance, describe

# The wake-key kind of a closed run (beside the task kinds "workflow" and "activity").
CLOSED_KIND = "workflow_closed"


def close_key(namespace: str, workflow_id: str) -> WakeKey:
    """The wake key a run's close sets: the instance's ``(kind, namespace, workflow_id)``."""
    return (CLOSED_KIND, namespace, workflow_id)


def closed_for_good(body: DescribeWorkflowBody) -> bool:
    """Whether a describe shows a final close (a ``continued`` run is handed over, not final)."""
    return bool(body.get("is_terminal")) and body.get("closed_reason") != "continued"


async def wait_for_close(
    waiters: Waiters,
    describe: Callable[[], Awaitable[DescribeWorkflowBody]],
    describe_if_closed: Callable[[], Awaitable[DescribeWorkflowBody | None]],
    key: WakeKey,
    *,
    wait_seconds: float,
    limit: float,
    reprobe_interval: float,
) -> DescribeWorkflowBody:
    """Describe once the run closed for good, or after the wait; the describe then, either way.

    The probes use ``describe_if_closed`` (the describe of a closed run, ``None`` for an open
    one: a probe needs no more, and a closed run's describe is one statement, with no
    transaction around it); ``describe`` answers for a run still open at the end.
    On shutdown (``Waiters.close``) the wait answers at once with the run as it is, as every
    long poll does; the caller re-issues it.
    """

    async def probe() -> DescribeWorkflowBody | None:
        body = await describe_if_closed()
        return body if body is not None and closed_for_good(body) else None

    async def wait(woken: asyncio.Event, seconds: float) -> DescribeWorkflowBody | None:
        # A close committed in this process hands its describe with the wake-up (see
        # :func:`closed_describe`): what a probe right after that commit would answer.
        await wait_event(woken, seconds)
        handed = cast(DescribeWorkflowBody | None, waiters.take(woken))
        return handed.copy() if handed is not None and closed_for_good(handed) else None

    closed = await long_poll(
        waiters,
        (key,),
        probe,
        timeout=min(wait_seconds, limit),
        reprobe_interval=reprobe_interval,
        wait=wait,
    )
    if closed is not None:
        return closed
    # Timed out (or shut down): the run as it is now (a probe may be a re-probe interval old).
    return await describe()


def closed_describe(run: RunRow) -> DescribeWorkflowBody | None:
    """The describe of ``run``, closed for good by a transaction that has just committed, from
    its row as that transaction left it (``None``: not renderable; the waiter's probe reads it).

    Its instance's current run, and the last it has (``run_count`` is its run number): a run
    is closed for good only while it is current, and a transaction that starts another run of
    the instance after closing it hands nothing (``runs.lifecycle.create_run``).
    """
    try:
        return describe(run, RunInstance(current_run_id=run["run_id"], run_count=run["run_number"]))
    except (DomainError, KeyError):  # unrenderable, or a row read without every column: read it
        return None


class CloseWaitAPI(Protocol):
    """The ``EngineAPI`` method of the blocking describe."""

    async def wait_workflow_closed(
        self, namespace: str, workflow_id: str, wait_seconds: float
    ) -> DescribeWorkflowBody:
        """Describe the instance's current run once it closed for good, or after ``wait_seconds``.

        Bounded by ``Settings.long_poll_timeout``; answered at once on shutdown. Raises
        ``instance_not_found`` like ``describe_workflow``.
        """
        ...
