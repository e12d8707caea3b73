"""``Worker``: registration, worker heartbeats, the run's lifecycle and graceful shutdown.

Its parts live beside it: the polls of each task kind in ``_polls.py``, the local slots and the
tasks running on them in ``_task_pool.py``, what it tells the server in ``_registration.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .. import activity as activity_mod
from ..client._local_workers import local_workers
from ..client._results import WorkflowExecution
from ..client._worker_calls import sdk_version_string
from ..client._workflows import TERMINAL_STATUSES
from ..errors import ServerError, TransportError
from ..interceptors import WorkerInterceptor
from ..metrics import MetricsRecorder
from ..protocol import capabilities
from ..workflow._definition import WorkflowDefinition, get_definition
from . import _compat
from ._eager import EagerHands, FirstTasks, advertised
from ._jobs import ACTIVITY, QUERY, WORKFLOW, job_of
from ._plane import WorkerPlaneClient
from ._polls import DEFAULT_MAX_CONCURRENT_POLLS, Poller, sleep_unless_stopped
from ._registration import (
    heartbeat_interval_of,
    is_transient,
    is_unregistered,
    process_metrics,
    send_stop_notice,
    worker_capabilities,
)
from ._runtime import DeliveryPolicy, TaskRuntime
from ._signals import stop_on_sigterm
from ._sticky import DEFAULT_MAX_CACHED_WORKFLOWS, WorkflowCache
from ._task_pool import TaskPool

if TYPE_CHECKING:
    from ..client import Client

    # Static proof that the real client is what a Worker needs (mypy checks this; it never runs).
    _CLIENT_IS_A_WORKER_PLANE_CLIENT: type[WorkerPlaneClient] = Client

logger = logging.getLogger("durable_workflow.worker")


class Worker:
    """Polls one task queue and runs the registered workflows and activities.

    Args:
        client: A connected ``Client`` (anything that is a :class:`WorkerPlaneClient`).
        task_queue: The task queue to poll.
        workflows: ``@workflow.defn`` classes or functions.
        activities: ``@activity.defn`` functions.
        worker_id: Stable id for this process (default ``py-worker-<8 hex>``).
        poll_timeout: HTTP timeout of one long poll, in seconds (raised to the server's
            long-poll hold + 5 s when it advertises one).
        max_concurrent_workflow_tasks / max_concurrent_activity_tasks: Local slots; a poll
            is only made while a slot is free. Query tasks (polled when the server advertises
            them) get their own ``max_concurrent_workflow_tasks`` slots: they replay workflow
            code like workflow tasks, but a parked query poll must never hold a slot a
            workflow task is waiting for.
        max_concurrent_workflow_task_polls / max_concurrent_activity_task_polls: How many polls
            of each kind may be in flight at once (default 3; at least 1). One poll loop per kind
            runs all the time; the others poll only while the last poll brought a task (a
            backlog on the queue), so an idle worker keeps one long poll parked per kind. With
            a backlog one loop brings one task per round trip to the server: more loops keep
            the slots busy when the server's answers are slow (a PostgreSQL server under load).
            Each poll still takes a free slot first.
        shutdown_timeout: Seconds :meth:`stop` waits for in-flight tasks before cancelling.
        metrics: A :class:`~durable_workflow.metrics.MetricsRecorder`; defaults to the client's
            ``metrics`` (which every :class:`WorkerPlaneClient` must provide; there is no
            fallback to a no-op recorder here).
        interceptors: Wrappers around task execution, outermost first.
        build_id: Registered build id (routes compatibility-marked tasks).
        heartbeat_interval: Seconds between worker heartbeats (the server may advertise one).
        max_cached_workflows: How many runs' suspended replays the sticky workflow cache keeps
            between their workflow tasks (least recently used evicted first; default 500, 0
            disables it): a cached run's next task replays only its new events.

    Attributes:
        report_retry_timeout: Seconds a task's outcome is retried while the server cannot be
            reached (default 60), so a server restart loses no completed work; after that the
            task's lease expires and the server hands it out again.
    """

    def __init__(
        self,
        client: WorkerPlaneClient,
        *,
        task_queue: str,
        workflows: Iterable[type[Any] | Callable[..., Any] | WorkflowDefinition] = (),
        activities: Iterable[Callable[..., Any] | activity_mod.ActivityDefinition] = (),
        worker_id: str | None = None,
        poll_timeout: float = 35.0,
        max_concurrent_workflow_tasks: int = 10,
        max_concurrent_activity_tasks: int = 10,
        max_concurrent_workflow_task_polls: int = DEFAULT_MAX_CONCURRENT_POLLS,
        max_concurrent_activity_task_polls: int = DEFAULT_MAX_CONCURRENT_POLLS,
        shutdown_timeout: float = 30.0,
        metrics: MetricsRecorder | None = None,
        interceptors: Sequence[WorkerInterceptor] = (),
        build_id: str | None = None,
        heartbeat_interval: float = 60.0,
        max_cached_workflows: int = DEFAULT_MAX_CACHED_WORKFLOWS,
    ) -> None:
        if not task_queue:
            raise ValueError("task_queue is required")
        if max_concurrent_workflow_tasks < 1 or max_concurrent_activity_tasks < 1:
            raise ValueError("max_concurrent_* must be >= 1")
        if max_concurrent_workflow_task_polls < 1 or max_concurrent_activity_task_polls < 1:
            raise ValueError("max_concurrent_*_task_polls must be >= 1")
        self.client = client
        self.task_queue = task_queue
        self.worker_id = worker_id or f"py-worker-{secrets.token_hex(4)}"
        self.poll_timeout = poll_timeout
        self.max_concurrent_workflow_tasks = max_concurrent_workflow_tasks
        self.max_concurrent_activity_tasks = max_concurrent_activity_tasks
        self.max_concurrent_workflow_task_polls = max_concurrent_workflow_task_polls
        self.max_concurrent_activity_task_polls = max_concurrent_activity_task_polls
        self.shutdown_timeout = shutdown_timeout
        self.build_id = build_id or None
        self.heartbeat_interval = heartbeat_interval
        self.workflow_cache = WorkflowCache(max_cached_workflows)
        self.interceptors: tuple[WorkerInterceptor, ...] = tuple(interceptors)
        self.metrics: MetricsRecorder = metrics if metrics is not None else client.metrics
        # Backoff after a failed poll, doubling up to the cap; tests shrink these.
        self.poll_error_backoff = 0.5
        self.poll_error_backoff_max = 5.0
        # How long a task outcome is retried while the server is unreachable (see _delivery.py).
        delivery = DeliveryPolicy()
        self.report_retry_timeout = delivery.retry_timeout
        self.report_retry_backoff = delivery.backoff
        self.report_retry_backoff_max = delivery.backoff_max

        self._workflows: dict[str, WorkflowDefinition] = {}
        for wf in workflows:
            definition = get_definition(wf)
            if definition.name in self._workflows:
                raise ValueError(f"workflow type {definition.name!r} registered twice")
            self._workflows[definition.name] = definition
        self._activities: dict[str, activity_mod.ActivityDefinition] = {}
        for act in activities:
            adef = activity_mod.get_definition(act)
            if adef.name in self._activities:
                raise ValueError(f"activity type {adef.name!r} registered twice")
            self._activities[adef.name] = adef

        self._started_monotonic = time.monotonic()
        self._started_at = datetime.now(timezone.utc)
        self._effective_poll_timeout = poll_timeout
        self._registered = False
        self._server_info: Mapping[str, Any] = {}
        # The local slots of each task kind and the tasks running on them (_task_pool.py).
        self._tasks = TaskPool(
            max_concurrent_workflow_tasks,
            max_concurrent_activity_tasks,
            runtime=self._runtime,
            record=self._record,
        )
        self._running = False
        # A stop() that came while the worker was not running, for the next run() (its task may
        # have been created but not started yet: without this the stop would be lost).
        self._stop_pending = False
        # Replaced by _begin() for each run, so they belong to the loop the worker runs on.
        self._stop_requested = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopped.set()
        self._register_lock = asyncio.Lock()
        self._progress: dict[str, asyncio.Event] = {}
        # Tests of an abrupt death turn the stop notice off (a killed process sends none).
        self._stop_notice_disabled = False
        # The round-trip extensions this worker uses, once the server advertised them (_eager.py).
        self._eager: EagerHands | None = None

    # ------------------------------------------------------------------ public API

    async def run(self) -> None:
        """Register, then poll workflow, activity and query tasks until :meth:`stop` (or cancellation).

        On the main thread, SIGTERM stops the worker like :meth:`stop` (in-flight tasks drain for
        up to ``shutdown_timeout``), unless the application installed its own SIGTERM handler.

        Query tasks (queries, and the validators of updates before acceptance) are polled only
        when the worker runs workflows and the server advertises ``query_tasks``. A :meth:`stop`
        requested before this run began makes it return at once, without registering.

        Raises:
            RuntimeError: The server's published contract is not compatible with this SDK, or
                this worker is already running.
        """
        self._begin()
        try:
            if self._stop_requested.is_set():
                return  # stopped before it began
            with stop_on_sigterm(self._stop_requested.set, self.worker_id):
                if await self._start_when_reachable():
                    await self._serve()
        finally:
            self._end()

    async def run_until(
        self, *, workflow_id: str, timeout: float = 60.0, poll_interval: float = 0.5
    ) -> WorkflowExecution:
        """Drive tasks until ``workflow_id`` reaches a terminal status; return its ``WorkflowExecution``.

        Raises:
            TimeoutError: The workflow is still open after ``timeout`` seconds.
            RuntimeError: The server's published contract is not compatible with this SDK, this
                worker is already running, or it was stopped before the workflow finished.
        """
        self._begin()
        try:
            if self._stop_requested.is_set():
                raise RuntimeError("worker stopped before the workflow finished")
            await self._start()
            return await self._drive(workflow_id, timeout, poll_interval)
        finally:
            self._end()

    async def stop(self) -> None:
        """Stop polling and wait (up to ``shutdown_timeout``) for in-flight tasks to finish.

        Safe to call at any time: a stop requested while the worker is still registering ends
        :meth:`run` as soon as registration is over; on a worker that is not running it returns
        at once and makes the next :meth:`run` (or :meth:`run_until`) end at once — so
        ``asyncio.create_task(worker.run())`` followed by ``await worker.stop()`` stops it even
        when the task had not started yet.
        """
        if not self._running:
            self._stop_pending = True
            return
        self._stop_requested.set()
        await self._stopped.wait()

    @property
    def task_slots(self) -> dict[str, int]:
        """Free local slots, as advertised to the server."""
        return {
            "workflow_available": self.max_concurrent_workflow_tasks - self._tasks.busy[WORKFLOW],
            "activity_available": self.max_concurrent_activity_tasks - self._tasks.busy[ACTIVITY],
        }

    @property
    def _inflight(self) -> set[asyncio.Task[None]]:
        return self._tasks.inflight

    # ------------------------------------------------------------------ lifecycle

    def _begin(self) -> None:
        # Synchronous, so a stop() issued while _start() awaits the server is not lost.
        if self._running:
            raise RuntimeError(f"worker {self.worker_id} is already running")
        self._running = True
        self._stop_requested = asyncio.Event()
        if self._stop_pending:
            self._stop_pending = False
            self._stop_requested.set()
        self._stopped = asyncio.Event()
        self._register_lock = asyncio.Lock()

    def _end(self) -> None:
        self.workflow_cache.clear()  # a stopped worker's next task may go anywhere
        self._running = False
        self._stopped.set()

    async def _drive(self, workflow_id: str, timeout: float, poll_interval: float) -> WorkflowExecution:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        progress = self._progress.setdefault(workflow_id, asyncio.Event())
        serving = asyncio.create_task(self._serve())
        try:
            while True:
                progress.clear()
                execution = await self.client.describe_workflow(workflow_id)
                status = execution.status
                if status in TERMINAL_STATUSES:
                    return execution
                if serving.done():
                    serving.result()  # surface a crash of the pollers
                    raise RuntimeError("worker stopped before the workflow finished")
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(
                        f"workflow {workflow_id!r} is still {status!r} after {timeout} seconds"
                    )
                # Wake early when this worker completes a task of that workflow.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(progress.wait(), timeout=min(poll_interval, remaining))
        finally:
            self._progress.pop(workflow_id, None)
            self._stop_requested.set()
            # gather (not a bare await) so a cancellation of run_until reaches the pollers and
            # the drain instead of being swallowed here; their outcome was surfaced above.
            await asyncio.gather(serving, return_exceptions=True)

    # ------------------------------------------------------------------ startup

    def _process_metrics(self) -> dict[str, Any]:
        return process_metrics(self._started_monotonic, self._started_at)

    async def _start(self) -> None:
        if self._registered:
            return
        info = await self.client.get_cluster_info()
        _compat.check_server_compatibility(info)
        self._server_info = info
        self._eager = self._eager_hands(info)
        hold = _compat.long_poll_timeout(info)
        self._effective_poll_timeout = max(self.poll_timeout, hold + 5) if hold else self.poll_timeout
        await self._register()

    async def _start_when_reachable(self) -> bool:
        """:meth:`_start`, retried while the server cannot be reached; ``False`` if stopped first.

        A deployed worker often starts beside its server, or is restarted during a server
        outage: it waits for the server (with the poll backoff) rather than exit. A refusal that
        waiting cannot cure (bad credentials, an incompatible server) still raises at once.
        """
        backoff = self.poll_error_backoff
        while True:
            try:
                await self._start()
                return True
            except (TransportError, ServerError) as exc:
                if isinstance(exc, ServerError) and not is_transient(exc):
                    raise
                logger.warning("server not reachable yet (%s); trying again in %.1fs", exc, backoff)
            await sleep_unless_stopped(self._stop_requested, backoff)
            if self._stop_requested.is_set():
                return False
            backoff = min(backoff * 2, self.poll_error_backoff_max)

    def _eager_hands(self, info: Mapping[str, Any]) -> EagerHands | None:
        # Each extension brings back a task of one kind: used only where this worker runs it.
        runs = {
            capabilities.SERVER_EAGER_ACTIVITY_DISPATCH: bool(self._activities),
            capabilities.SERVER_ACTIVITY_COMPLETION_WORKFLOW_TASK: bool(self._workflows),
            capabilities.SERVER_EAGER_START_WORKFLOW_TASK: bool(self._workflows),
        }
        enabled = [name for name in advertised(info) if runs[name]]
        return EagerHands(self._tasks.slots, self._launch_handed, enabled) if enabled else None

    def _launch_handed(self, kind: str, raw: Mapping[str, Any]) -> None:
        """Run a task a request brought back, on the slot reserved for it (see _eager.py)."""
        self._tasks.launch(kind, job_of(kind, raw))

    def _answers_queries(self) -> bool:
        return bool(self._workflows) and _compat.supports_query_tasks(self._server_info)

    def _capabilities(self) -> list[str]:
        return worker_capabilities(self._answers_queries())

    async def _register(self) -> None:
        response = await self.client.register_worker(
            worker_id=self.worker_id,
            task_queue=self.task_queue,
            runtime="python",
            sdk_version=sdk_version_string(),
            build_id=self.build_id,
            supported_workflow_types=sorted(self._workflows),
            supported_activity_types=sorted(self._activities),
            workflow_definition_fingerprints={n: d.fingerprint for n, d in sorted(self._workflows.items())},
            max_concurrent_workflow_tasks=self.max_concurrent_workflow_tasks,
            max_concurrent_activity_tasks=self.max_concurrent_activity_tasks,
            capabilities=self._capabilities(),
            task_slots=self.task_slots,
            process_metrics=self._process_metrics(),
        )
        self._adopt_heartbeat_interval(response)
        self._registered = True
        logger.info(
            "worker %s registered on task queue %r (workflows=%s, activities=%s)",
            self.worker_id,
            self.task_queue,
            sorted(self._workflows),
            sorted(self._activities),
        )

    def _adopt_heartbeat_interval(self, answer: Mapping[str, Any]) -> None:
        interval = heartbeat_interval_of(answer)
        if interval is not None:
            self.heartbeat_interval = interval

    # ------------------------------------------------------------------ serving

    async def _serve(self) -> None:
        loops = [asyncio.create_task(self._heartbeat_loop())]
        poller = Poller(
            self,
            self._tasks,
            eager=self._eager,
            timeout=self._effective_poll_timeout,
            stop=self._stop_requested,
            register_again=self._register_again,
            record=self._record,
        )
        for kind in self._kinds():
            loops.append(asyncio.create_task(poller.loop(kind)))
            loops += [asyncio.create_task(poller.loop(kind, burst=True)) for _ in range(self._bursts(kind))]
        eager, first_tasks = self._eager, None
        if eager is not None:
            eager.accepting = True
            if capabilities.SERVER_EAGER_START_WORKFLOW_TASK in eager.enabled:
                first_tasks = FirstTasks(self.worker_id, eager, self._workflows)
                local_workers(self.client).add(self.task_queue, first_tasks)
        try:
            await self._stop_requested.wait()
        finally:
            if eager is not None:
                eager.accepting = False  # nothing new is asked for from here on
            if first_tasks is not None:
                local_workers(self.client).remove(self.task_queue, first_tasks)
            # Stop new polls first: an in-flight long poll holds no task we have accepted yet.
            for task in loops:
                task.cancel()
            try:
                await asyncio.gather(*loops, return_exceptions=True)
            finally:
                await self._drain()
                await self._stop_notice()
                logger.info("worker %s stopped", self.worker_id)

    def _bursts(self, kind: str) -> int:
        """How many burst poll loops ``kind`` gets beside its steady one (see ``_polls.py``)."""
        if kind == WORKFLOW:
            return self.max_concurrent_workflow_task_polls - 1
        if kind == ACTIVITY:
            return self.max_concurrent_activity_task_polls - 1
        return 0  # query tasks: one loop; a query is answered while its caller waits, not in bulk

    def _kinds(self) -> list[str]:
        kinds = [kind for kind, types in ((WORKFLOW, self._workflows), (ACTIVITY, self._activities)) if types]
        return [*kinds, QUERY] if self._answers_queries() else kinds

    async def _drain(self) -> None:
        await self._tasks.drain(self.shutdown_timeout)

    async def _stop_notice(self) -> None:
        # After a graceful drain only: a cancelled worker (or a killed process) is found by liveness.
        if not self._registered or self._stop_notice_disabled:
            return
        await send_stop_notice(self.client, self.worker_id)

    def _record(self, counter: str, histogram: str, kind: str, started: float, outcome: str) -> None:
        tags = {"task_kind": kind, "task_queue": self.task_queue, "outcome": outcome}
        try:
            self.metrics.increment(counter, 1.0, tags)
            self.metrics.record(histogram, time.monotonic() - started, tags)
        except Exception:  # a broken recorder must never stop the worker
            logger.debug("metrics recorder failed for %s", counter, exc_info=True)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                answer = await self.client.heartbeat_worker(
                    worker_id=self.worker_id,
                    task_slots=self.task_slots,
                    process_metrics=self._process_metrics(),
                )
                self._adopt_heartbeat_interval(answer)
            except Exception as exc:
                logger.warning("worker heartbeat failed: %s", exc)
                if is_unregistered(exc, 404):
                    await self._register_again()

    async def _register_again(self) -> None:
        # Both poll loops and the heartbeat may notice at once; one registration is enough.
        if self._register_lock.locked():
            async with self._register_lock:
                return
        async with self._register_lock:
            logger.warning("worker %s unknown to the server; registering again", self.worker_id)
            try:
                await self._register()
            except Exception as exc:  # the next poll or heartbeat tries again
                logger.warning("worker %s could not register again: %s", self.worker_id, exc)

    def _runtime(self) -> TaskRuntime:
        # Built per task: the delivery knobs are plain attributes that tests (and users) may set.
        return TaskRuntime(
            client=self.client,
            worker_id=self.worker_id,
            task_queue=self.task_queue,
            workflows=self._workflows,
            activities=self._activities,
            interceptors=self.interceptors,
            delivery=DeliveryPolicy(
                retry_timeout=self.report_retry_timeout,
                backoff=self.report_retry_backoff,
                backoff_max=self.report_retry_backoff_max,
            ),
            notify_progress=self._notify_progress,
            # The client's driver and verified-bytes cache, shared by every task's replay.
            payloads=self.client.payload_resolver,
            eager=self._eager,
            cache=self.workflow_cache,
            sticky_completions=self.workflow_cache.enabled
            and _compat.supports_sticky_workflow_tasks(self._server_info),
        )

    def _notify_progress(self, workflow_id: str) -> None:
        event = self._progress.get(workflow_id)
        if event is not None:
            event.set()
