"""``Poller``: the long polls of one worker run, loops per task kind, each poll on a free local slot.

A loop takes a slot of its kind before it polls (so it never accepts a task it cannot run at
once), hands what the poll brought to the ``TaskPool`` on that slot, and backs off (doubling up to
the worker's cap) after a failed poll. A poll the server refuses because it forgot this worker
registers it again at once.

Each kind has one steady loop and may have burst loops (``Worker``'s
``max_concurrent_*_task_polls`` minus one). A poll takes a whole round trip to the server and its
database, and one loop brings at most one task per round trip: with a backlog on the queue, one
loop leaves the worker's slots idle while the server could hand out more. The burst loops poll
only while the last poll of their kind brought a task (there is a backlog) and go quiet at the
first empty poll, so an idle worker keeps one long poll parked per kind, as before.

A poll names the tasks the worker holds (``held_task_ids``, see ``_leases.py``) only when no
other poll of its kind can overlap it, before it is sent or after: a task another poll was just
handed is held but cannot be named until that poll's answer arrives, and requests on different
connections are not ordered, so a poll sent after the naming one may be served first and its
task handed back by it. So it names them only while no poll of its kind is in flight and no
backlog lets a burst loop poll meanwhile (a burst loop checks the backlog again once it has its
slot) — or, where the server keeps fresh leases (``hand_back_grace_seconds``, sent where tasks
come eagerly), whenever no poll is in flight, since an overlapping poll's lease is a fresh one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..metrics import WORKER_POLL_DURATION_SECONDS, WORKER_POLLS
from ._eager import HAND_BACK_GRACE_SECONDS, EagerHands
from ._jobs import ACTIVITY, QUERY, WORKFLOW, Job, job_of, query_job
from ._registration import is_unregistered
from ._task_pool import Recorder, TaskPool

if TYPE_CHECKING:
    from ._worker import Worker

logger = logging.getLogger("durable_workflow.worker")

# Polls of one kind a worker may have in flight at once by default (Worker's
# ``max_concurrent_*_task_polls``): one steady loop and two that poll only through a backlog.
DEFAULT_MAX_CONCURRENT_POLLS = 3

# How long the server may hold a burst loop's poll (``hold_seconds``): not at all. A burst poll
# is for a backlog; an empty one answers at once and its loop goes quiet, rather than parking
# beside the steady loop's poll (where it would keep every poll from naming the held tasks).
BURST_HOLD_SECONDS = 0.0

_POLL_ID_PREFIX = {WORKFLOW: "wf-poll", ACTIVITY: "activity-poll", QUERY: "query-poll"}


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class Poller:
    """The polls of one run of ``worker``.

    The worker's public settings (client, ids, build id, backoff) are read at each use, as a
    user (or a test) may set them on the worker; what one run fixes is given here.

    Args:
        worker: The worker polling.
        tasks: Its slots, and where a polled task runs.
        eager: The round-trip extensions in use (``_eager.py``), or ``None``.
        timeout: HTTP timeout of one long poll, in seconds.
        stop: Set when the worker stops: the loops end.
        register_again: Registers the worker again (a poll found it unknown to the server).
        record: Records a poll's metrics.
    """

    def __init__(
        self,
        worker: Worker,
        tasks: TaskPool,
        *,
        eager: EagerHands | None,
        timeout: float,
        stop: asyncio.Event,
        register_again: Callable[[], Awaitable[None]],
        record: Recorder,
    ) -> None:
        self._worker = worker
        self._tasks = tasks
        self._eager = eager
        self._timeout = timeout
        self._stop = stop
        self._register_again = register_again
        self._record = record
        #: Polls of each kind on their way (see _held_ids).
        self._polling: dict[str, int] = {WORKFLOW: 0, ACTIVITY: 0, QUERY: 0}
        #: Set while the last poll of a kind brought a task: its burst loops poll meanwhile.
        self._backlog: dict[str, asyncio.Event] = {kind: asyncio.Event() for kind in self._polling}
        #: The kinds with burst loops (each registers as it starts, before any poll answers).
        self._bursty: set[str] = set()

    async def loop(self, kind: str, *, burst: bool = False) -> None:
        """Poll ``kind`` until the worker stops, one poll per free slot.

        ``burst``: a loop that polls only while there is a backlog (the last poll of its kind
        brought a task); the steady loop of each kind polls all the time.
        """
        worker = self._worker
        slots = self._tasks.slots[kind]
        backlog = self._backlog[kind]
        backoff = worker.poll_error_backoff
        if burst:
            self._bursty.add(kind)
        while not self._stop.is_set():
            if burst:
                await backlog.wait()
            await slots.acquire()
            handed_off = False
            try:
                if burst and not backlog.is_set():
                    continue  # drained while this loop waited for a slot (see the module doc)
                try:
                    task = await self.poll_once(kind, burst=burst)
                except Exception as exc:
                    logger.warning("%s poll failed: %s", kind, exc)
                    if is_unregistered(exc, 412):
                        # The server forgot us (restarted on a fresh database, pruned a stale
                        # worker): register again now rather than at the next heartbeat.
                        await self._register_again()
                    await sleep_unless_stopped(self._stop, backoff)
                    backoff = min(backoff * 2, worker.poll_error_backoff_max)
                    continue
                backoff = worker.poll_error_backoff
                if task is None:
                    backlog.clear()  # the queue is drained: the burst loops go quiet
                    continue
                backlog.set()
                handed_off = True
                self._tasks.launch(kind, task)
            finally:
                if not handed_off:
                    slots.release()

    async def poll_once(self, kind: str, *, burst: bool = False) -> Job | None:
        """One poll of ``kind``; the task it brought, ready to hand to its handler, or ``None``.

        ``burst``: a burst loop's poll, which the server answers at once when nothing is ready.
        """
        worker = self._worker
        started = time.monotonic()
        outcome = "error"
        poll_request_id = f"{_POLL_ID_PREFIX[kind]}-{uuid.uuid4().hex}"
        job: Job | None = None
        # Named before this poll counts as in flight; query polls name none (nothing holds them).
        held = None if kind == QUERY else self._held_ids(kind)
        # Sent only on burst polls, so a plane client without the argument keeps working.
        hold: dict[str, Any] = {"hold_seconds": BURST_HOLD_SECONDS} if burst else {}
        self._polling[kind] += 1
        try:
            if kind == WORKFLOW:
                workflow_task = await worker.client.poll_workflow_task(
                    worker_id=worker.worker_id,
                    task_queue=worker.task_queue,
                    build_id=worker.build_id,
                    poll_request_id=poll_request_id,
                    timeout=self._timeout,
                    held_task_ids=held,
                    **self._hand_back_grace(WORKFLOW),
                    **hold,
                )
                if workflow_task:
                    job = job_of(WORKFLOW, workflow_task)
            elif kind == QUERY:
                query_task = await worker.client.poll_query_task(
                    worker_id=worker.worker_id,
                    task_queue=worker.task_queue,
                    poll_request_id=poll_request_id,
                    timeout=self._timeout,
                )
                if query_task:
                    job = query_job(query_task)
            else:
                activity_task = await worker.client.poll_activity_task(
                    worker_id=worker.worker_id,
                    task_queue=worker.task_queue,
                    build_id=worker.build_id,
                    poll_request_id=poll_request_id,
                    timeout=self._timeout,
                    held_task_ids=held,
                    **self._hand_back_grace(ACTIVITY),
                    **hold,
                )
                if activity_task:
                    job = job_of(ACTIVITY, activity_task)
            outcome = "task" if job else "empty"
            return job
        finally:
            self._polling[kind] -= 1
            self._record(WORKER_POLLS, WORKER_POLL_DURATION_SECONDS, kind, started, outcome)

    def _held_ids(self, kind: str) -> list[str] | None:
        """The ``held_task_ids`` of a poll: none while a request may still bring one back."""
        if self._eager is not None and self._eager.in_flight(kind):
            return None  # a task leased to us whose answer is on its way is held, unnamed yet
        if self._polling[kind]:
            return None  # the same for a task another poll of this kind may be bringing
        if kind in self._bursty and self._backlog[kind].is_set() and not self._hand_back_grace(kind):
            return None  # a burst poll may follow this one and be served first (module doc)
        return self._tasks.held.ids(kind)

    def _hand_back_grace(self, kind: str) -> dict[str, Any]:
        """A poll's ``hand_back_grace_seconds``, sent only where tasks of ``kind`` come eagerly."""
        if self._eager is None or not self._eager.hands_out(kind):
            return {}  # the poll exactly as before
        return {"hand_back_grace_seconds": HAND_BACK_GRACE_SECONDS}
