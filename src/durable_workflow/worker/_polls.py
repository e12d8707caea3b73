"""``Poller``: the long polls of one worker run, a loop per task kind, each on a free local slot.

A loop takes a slot of its kind before it polls (so it never accepts a task it cannot run at
once), hands what the poll brought to the ``TaskPool`` on that slot, and backs off (doubling up to
the worker's cap) after a failed poll. A poll the server refuses because it forgot this worker
registers it again at once.
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

    async def loop(self, kind: str) -> None:
        """Poll ``kind`` until the worker stops, one poll per free slot."""
        worker = self._worker
        slots = self._tasks.slots[kind]
        backoff = worker.poll_error_backoff
        while not self._stop.is_set():
            await slots.acquire()
            handed_off = False
            try:
                try:
                    task = await self.poll_once(kind)
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
                    continue
                handed_off = True
                self._tasks.launch(kind, task)
            finally:
                if not handed_off:
                    slots.release()

    async def poll_once(self, kind: str) -> Job | None:
        """One poll of ``kind``; the task it brought, ready to hand to its handler, or ``None``."""
        worker = self._worker
        started = time.monotonic()
        outcome = "error"
        poll_request_id = f"{_POLL_ID_PREFIX[kind]}-{uuid.uuid4().hex}"
        job: Job | None = None
        try:
            if kind == WORKFLOW:
                workflow_task = await worker.client.poll_workflow_task(
                    worker_id=worker.worker_id,
                    task_queue=worker.task_queue,
                    build_id=worker.build_id,
                    poll_request_id=poll_request_id,
                    timeout=self._timeout,
                    held_task_ids=self._held_ids(WORKFLOW),
                    **self._hand_back_grace(WORKFLOW),
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
                    held_task_ids=self._held_ids(ACTIVITY),
                    **self._hand_back_grace(ACTIVITY),
                )
                if activity_task:
                    job = job_of(ACTIVITY, activity_task)
            outcome = "task" if job else "empty"
            return job
        finally:
            self._record(WORKER_POLLS, WORKER_POLL_DURATION_SECONDS, kind, started, outcome)

    def _held_ids(self, kind: str) -> list[str] | None:
        """The ``held_task_ids`` of a poll: none while a request may still bring one back."""
        if self._eager is not None and self._eager.in_flight(kind):
            return None  # a task leased to us whose answer is on its way is held, unnamed yet
        return self._tasks.held.ids(kind)

    def _hand_back_grace(self, kind: str) -> dict[str, Any]:
        """A poll's ``hand_back_grace_seconds``, sent only where tasks of ``kind`` come eagerly."""
        if self._eager is None or not self._eager.hands_out(kind):
            return {}  # the poll exactly as before
        return {"hand_back_grace_seconds": HAND_BACK_GRACE_SECONDS}
