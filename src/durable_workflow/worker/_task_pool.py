"""``TaskPool``: a worker's local slots per task kind and the tasks running on them.

A poll (or a request that may bring a task back, see ``_eager.py``) takes a slot first; the task
it brings runs on that slot and gives it back when its handler returns. The pool also keeps the
tasks each poll names as held (``_leases.py``) and renews a workflow task's lease while it runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ..metrics import WORKER_TASK_DURATION_SECONDS, WORKER_TASKS
from ._jobs import ACTIVITY, QUERY, WORKFLOW, Job
from ._leases import HeldTasks, renew
from ._runtime import TaskRuntime

logger = logging.getLogger("durable_workflow.worker")

# Records one poll's or one task's metrics: (counter, histogram, kind, started, outcome).
Recorder = Callable[[str, str, str, float, str], None]


class TaskPool:
    """The slots of each task kind, the tasks held and the tasks running.

    Args:
        max_workflow_tasks / max_activity_tasks: Slots per kind; query tasks get as many as
            workflow tasks (they replay workflow code), but slots of their own.
        runtime: Builds the ``TaskRuntime`` a task's handler is given, once per task.
        record: Records a finished task's metrics.
    """

    def __init__(
        self,
        max_workflow_tasks: int,
        max_activity_tasks: int,
        *,
        runtime: Callable[[], TaskRuntime],
        record: Recorder,
    ) -> None:
        self.slots = {
            WORKFLOW: asyncio.Semaphore(max_workflow_tasks),
            ACTIVITY: asyncio.Semaphore(max_activity_tasks),
            QUERY: asyncio.Semaphore(max_workflow_tasks),
        }
        self.busy = {WORKFLOW: 0, ACTIVITY: 0, QUERY: 0}
        # The tasks of each kind this worker holds: every poll names them (see _leases.py).
        self.held = HeldTasks((WORKFLOW, ACTIVITY))
        self.inflight: set[asyncio.Task[None]] = set()
        self._runtime = runtime
        self._record = record

    def launch(self, kind: str, job: Job) -> None:
        """Run ``job`` on the ``kind`` slot already taken for it.

        The task is held (every poll of its kind names it) and counted busy from here until its
        handler returns, however it returns; its slot goes back then. The release is made as the
        handler returns, not after the lease renewal it cancels has wound down (other tasks run
        meanwhile, one handed by the very answer it got), and again, as a no-op, by the task's
        done callback: that one also covers a task cancelled before its first step (a worker
        cancelled right after a hand-out), whose coroutine never runs a ``finally``.
        """
        started = time.monotonic()
        released = False

        def release(outcome: str) -> None:
            nonlocal released
            if released:
                return
            released = True
            self.held.done(kind, job.task_id, job.lease, outcome)
            self.busy[kind] -= 1
            self.slots[kind].release()
            self._record(WORKER_TASKS, WORKER_TASK_DURATION_SECONDS, kind, started, outcome)

        def finished(running: asyncio.Task[None]) -> None:
            self.inflight.discard(running)
            release("cancelled" if running.cancelled() else "error")

        running = asyncio.create_task(self._execute(kind, job, release))  # first: it may raise
        # Held from now on: the next poll of that kind names it.
        self.held.hold(kind, job.task_id)
        self.busy[kind] += 1
        self.inflight.add(running)
        running.add_done_callback(finished)

    async def _execute(self, kind: str, job: Job, release: Callable[[str], None]) -> None:
        outcome = "error"
        renewing: asyncio.Task[None] | None = None
        try:
            runtime = self._runtime()
            if job.lease is not None:
                renewing = asyncio.create_task(renew(runtime.client, job.lease))
            outcome = await job.handle(runtime)
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception:
            logger.exception("%s task %s crashed", kind, job.task_id)
        finally:
            if renewing is not None:
                renewing.cancel()
            release(outcome)
            if renewing is not None:
                await asyncio.gather(renewing, return_exceptions=True)

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the running tasks, then cancel what still runs."""
        pending = set(self.inflight)
        if not pending:
            return
        try:
            _, still_running = await asyncio.wait(pending, timeout=timeout)
        except asyncio.CancelledError:
            # Cancelled while draining: skip the grace period but leave no task running behind.
            await _cancel_all(pending)
            raise
        if still_running:
            logger.warning("cancelling %d task(s) still running after %ss", len(still_running), timeout)
            await _cancel_all(still_running)


async def _cancel_all(tasks: set[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
