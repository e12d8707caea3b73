"""Worker-plane operations: registry, workflow-task and activity-task polls and outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.wire import ActivityTask, HistoryPage

from ..store.rows import ActivityTaskRow, WorkerRow, WorkflowTaskRow
from .activities import eager as eager_activities
from .activities import leases as activity_leases
from .activities import liveness as activity_liveness
from .activities import outcomes as activities
from .activities.claims import claim_activity_task
from .api import RegisterWorkerRequest
from .core import EngineCore
from .errors import DomainError
from .event_wait import wait_event
from .history.pages import history_page
from .maintenance.counters import WORKER_LEASE_RELEASES
from .namespaces import rows as namespace_rows
from .parked import ParkedPoll
from .shapes import (
    ActivityHeartbeatResponse,
    ActivityOutcomeResponse,
    EagerActivityCompletion,
    EagerWorkflowTaskCompletion,
    RegisterWorkerResponse,
    WorkerHeartbeatResponse,
    WorkflowTaskBody,
    WorkflowTaskCompletedResponse,
    WorkflowTaskFailedResponse,
    WorkflowTaskHeartbeatResponse,
)
from .transaction import Tx
from .util import decode_token
from .waiters import Wait, cancel_safe, long_poll
from .workers import registry as workers
from .workflow_tasks import leases as workflow_task_leases
from .workflow_tasks import outcomes as workflow_task_outcomes
from .workflow_tasks import sticky as workflow_task_sticky
from .workflow_tasks.claims import cached_poll, lease_workflow_task
from .workflow_tasks.eager import NextTaskLease, hand_ready_task
from .workflow_tasks.eager import hand_leased as hand_leased_workflow_task

# A claim pass: the poll answer, or ``None`` and the candidates whose run was busy.
_WorkflowClaim = tuple[WorkflowTaskBody | None, list[WorkflowTaskRow]]
_ActivityClaim = tuple[ActivityTask | None, list[ActivityTaskRow]]
# The task object a poll answers with (workflow or activity).
_Task = TypeVar("_Task", WorkflowTaskBody, ActivityTask)


async def _wait_for(woken: asyncio.Event, seconds: float) -> None:
    await wait_event(woken, seconds)


class WorkerPlane(EngineCore):
    """``EngineAPI`` worker-plane methods (see docs/protocol.md)."""

    # ------------------------------------------------------------------ worker plane: registry
    async def register_worker(self, namespace: str, request: RegisterWorkerRequest) -> RegisterWorkerResponse:
        async for txn in self._tx():
            async with txn as tx:
                await namespace_rows.require(tx, namespace)  # still there when the worker row is written
                answer = await workers.register(
                    tx,
                    namespace,
                    request,
                    self.settings.worker_stale_after_seconds,
                    self.settings.worker_heartbeat_interval_seconds,
                )
                await activity_liveness.signs_of_life(tx, namespace, answer["worker_id"])
                return answer
        raise AssertionError("unreachable: every attempt returns or raises")

    async def heartbeat_worker(
        self,
        namespace: str,
        worker_id: str,
        *,
        task_slots: dict[str, Any] | None = None,
        process_metrics: dict[str, Any] | None = None,
        stopping: bool = False,
    ) -> WorkerHeartbeatResponse:
        released = (0, 0)
        async for txn in self._tx():
            async with txn as tx:
                interval = self.settings.worker_heartbeat_interval_seconds
                answer = await workers.heartbeat(
                    tx, namespace, worker_id, task_slots, process_metrics, interval
                )
                if not stopping:
                    await activity_liveness.signs_of_life(tx, namespace, worker_id)
                    return answer
                # The stop notice: whatever the worker still holds it cancelled (or never ran),
                # and the runs it kept are anyone's now.
                await workflow_task_sticky.end_for_worker(tx, namespace, worker_id)
                reason = "released: the worker stopped"
                released = (
                    await workflow_task_leases.hand_back(tx, namespace, worker_id, (), reason),
                    await activity_leases.hand_back(tx, namespace, worker_id, ()),
                )
        # Counted once the attempt that released them committed (an aborted one released nothing).
        self._count_releases("stopping", *released)
        return answer

    def _count_releases(self, reason: str, workflow: int, activity: int) -> None:
        self.counters.inc(WORKER_LEASE_RELEASES, {"kind": "workflow", "reason": reason}, workflow)
        self.counters.inc(WORKER_LEASE_RELEASES, {"kind": "activity", "reason": reason}, activity)

    # ------------------------------------------------------------------ worker plane: workflow tasks
    async def _cancel_safe(
        self,
        claim: Callable[[], Awaitable[_Task | None]],
        release: Callable[[_Task], Awaitable[bool]],
    ) -> _Task | None:
        return await cancel_safe(claim, release)

    async def release_workflow_task(
        self, namespace: str, task_id: str, *, lease_owner: str, workflow_task_attempt: int
    ) -> bool:
        async for txn in self._tx():
            async with txn as tx:
                return await workflow_task_leases.release_workflow_task(
                    tx,
                    namespace,
                    task_id,
                    lease_owner=lease_owner,
                    workflow_task_attempt=workflow_task_attempt,
                )
        raise AssertionError("unreachable: every attempt returns or raises")

    async def release_activity_task(
        self, namespace: str, task_id: str, *, activity_attempt_id: str, lease_owner: str
    ) -> bool:
        async for txn in self._tx():
            async with txn as tx:
                return await activity_leases.release_activity_task(
                    tx, namespace, task_id, activity_attempt_id=activity_attempt_id, lease_owner=lease_owner
                )
        raise AssertionError("unreachable: every attempt returns or raises")

    def _page_size(self, requested: int | None) -> int:
        size = requested or self.settings.history_page_size_default
        return max(1, min(int(size), self.settings.history_page_size_max))

    async def poll_workflow_task(
        self,
        namespace: str,
        *,
        worker_id: str,
        task_queue: str,
        build_id: str | None,
        poll_request_id: str | None,
        history_page_size: int | None,
        timeout: float | None = None,
        held_task_ids: Sequence[str] | None = None,
        hand_back_grace_seconds: float | None = None,
    ) -> WorkflowTaskBody | None:
        page_size = self._page_size(history_page_size)
        types: list[str] | None = None  # known after the first probe checked the registration
        registered_build: str | None = None  # the registration's build id (its cohort)
        registration: WorkerRow | None = None  # as the first probe read it (a start's hand-off)
        offerable = True  # no earlier try of this poll recorded a lease (workflow_tasks/handoff.py)

        async def attempt(tx: Tx, busy: list[WorkflowTaskRow] | None) -> _WorkflowClaim:
            assert types is not None
            payload, still_busy = await lease_workflow_task(
                tx,
                namespace=namespace,
                queue=task_queue,
                worker_id=worker_id,
                workflow_types=types,
                lease_seconds=self.settings.workflow_task_lease_seconds,
                build_id=registered_build,
                page_size=page_size,
                busy=busy,
                poll_request_id=poll_request_id,
                sticky_window=self.settings.sticky_schedule_to_start_seconds,
            )
            return payload, still_busy

        async def claim() -> WorkflowTaskBody | None:
            nonlocal types, registered_build, registration, offerable
            # Decided once, not per attempt: an attempt the database aborted checks again.
            first_probe = types is None
            async for txn in self._tx():
                async with txn as tx:
                    if first_probe:
                        # The first probe also checks the registration and answers a retried poll,
                        # all in the transaction that tries to claim.
                        cached = None
                        holds_leases = True  # unknown: the hand-back looks
                        if poll_request_id:
                            worker, earlier, holds_leases = await workers.registered_worker_and_poll(
                                tx,
                                namespace,
                                worker_id,
                                task_queue,
                                build_id,
                                poll_request_id,
                                held_task_ids=held_task_ids or (),
                                grace=hand_back_grace_seconds,
                            )
                            cached = await cached_poll(
                                tx, namespace, worker_id, poll_request_id, page_size, known=earlier
                            )
                            offerable = earlier is None
                        else:
                            worker = await workers.registered_worker(
                                tx, namespace, worker_id, task_queue, build_id
                            )
                        types = list(worker["supported_workflow_types"] or [])
                        registered_build = worker["build_id"]
                        registration = worker
                        if held_task_ids is not None and holds_leases:
                            # A transport retry of this poll replays its task: that one is held too.
                            keep = {*held_task_ids, *([cached["task_id"]] if cached is not None else [])}
                            reason = "released: the worker polled again without holding it"
                            handed = await workflow_task_leases.hand_back(
                                tx, namespace, worker_id, keep, reason, hand_back_grace_seconds
                            )
                            self._count_releases("repoll", handed, 0)
                        if cached is not None:
                            return cached
                    payload, busy = await attempt(tx, None)
            if payload is not None or not busy:
                return payload
            # Every due task's run was held by another transaction: wait for them, run first.
            async for txn in self._tx():
                async with txn as tx:
                    payload, _ = await attempt(tx, busy)
            return payload

        async def release(task: WorkflowTaskBody) -> bool:
            """Hand back ``task`` exactly as this poll returned it."""
            return await self.release_workflow_task(
                namespace,
                task["task_id"],
                lease_owner=task["lease_owner"],
                workflow_task_attempt=task["workflow_task_attempt"],
            )

        async def wait(woken: asyncio.Event, seconds: float) -> WorkflowTaskBody | None:
            """Wait parked, so a start on the queue may hand its new task straight to this poll."""
            if registration is None or types is None or not offerable:
                await _wait_for(woken, seconds)
                return None
            offer = ParkedPoll(registration, frozenset(types), poll_request_id, page_size, woken)
            return await self.waiters.parked.wait((namespace, task_queue), offer, seconds, release)

        return await self._long_poll_claims("workflow", namespace, task_queue, claim, release, timeout, wait)

    async def workflow_task_history(
        self,
        namespace: str,
        task_id: str,
        *,
        lease_owner: str,
        workflow_task_attempt: int,
        next_history_page_token: str,
        history_page_size: int | None,
    ) -> HistoryPage:
        after = decode_token(next_history_page_token)
        if after is None:
            raise DomainError(
                reasons.INVALID_PAGE_TOKEN, "The next_history_page_token is not a valid history token."
            )
        async for txn in self._tx():
            async with txn as tx:
                task, run = await workflow_task_leases.fence(
                    tx, namespace, task_id, lease_owner, workflow_task_attempt
                )
                page = await history_page(tx, run, after=after, page_size=self._page_size(history_page_size))
        return {"task_id": task_id, "workflow_task_attempt": task["attempt_count"], **page}

    async def heartbeat_workflow_task(
        self, namespace: str, task_id: str, *, lease_owner: str, workflow_task_attempt: int
    ) -> WorkflowTaskHeartbeatResponse:
        async for txn in self._tx():
            async with txn as tx:
                return await workflow_task_outcomes.heartbeat(
                    tx,
                    namespace,
                    task_id,
                    lease_owner,
                    workflow_task_attempt,
                    self.settings.workflow_task_lease_seconds,
                )
        raise AssertionError("unreachable: every attempt returns or raises")

    async def complete_workflow_task(
        self,
        namespace: str,
        task_id: str,
        *,
        lease_owner: str,
        workflow_task_attempt: int,
        commands: list[dict[str, Any]],
        eager_activity_slots: int | None = None,
        sticky: bool = False,
    ) -> WorkflowTaskCompletedResponse:
        async def resolve(tx: Tx) -> tuple[WorkerRow | None, bool | None]:
            return await self._eager_registration(tx, namespace, lease_owner)

        async for txn in self._tx():
            async with txn as tx:
                plan = None
                if eager_activity_slots:
                    lease_seconds = self.settings.activity_task_lease_seconds
                    plan = eager_activities.EagerActivities(resolve, eager_activity_slots, lease_seconds)
                answer = await workflow_task_outcomes.complete(
                    tx, namespace, task_id, lease_owner, workflow_task_attempt, commands, sticky, plan
                )
                if eager_activity_slots is None:
                    return answer  # the answer SDK 0.4.84 knows, exactly
                handed: list[ActivityTask] = []
                if plan is not None and plan.engaged and plan.certain:
                    # Leased as they were scheduled (activities/eager.py): their events, their tasks.
                    worker = plan.worker
                    handed = await eager_activities.hand_leased(tx, plan)
                    if worker is not None and len(handed) == len(answer["created_task_ids"]):
                        tx.wakes.discard(("activity", namespace, worker["task_queue"]))
                elif eager_activity_slots > 0 and answer["created_task_ids"]:
                    if plan is not None and plan.engaged:
                        worker = plan.worker  # read for the plan, in this transaction
                    else:
                        worker = await self._eager_worker(tx, namespace, lease_owner)
                    if worker is not None:
                        handed = await eager_activities.hand_scheduled(
                            tx,
                            worker,
                            answer["created_task_ids"],
                            eager_activity_slots,
                            lease_seconds=self.settings.activity_task_lease_seconds,
                        )
                        if len(handed) == len(answer["created_task_ids"]):
                            # Nothing this completion scheduled is left to claim: parked activity
                            # polls would wake only to find nothing.
                            tx.wakes.discard(("activity", namespace, worker["task_queue"]))
                eager: EagerWorkflowTaskCompletion = {**answer, "eager_activity_tasks": handed}
                return eager
        raise AssertionError("unreachable: every attempt returns or raises")

    async def fail_workflow_task(
        self,
        namespace: str,
        task_id: str,
        *,
        lease_owner: str,
        workflow_task_attempt: int,
        failure: dict[str, Any],
    ) -> WorkflowTaskFailedResponse:
        async for txn in self._tx():
            async with txn as tx:
                return await workflow_task_outcomes.fail(
                    tx,
                    namespace,
                    task_id,
                    lease_owner,
                    workflow_task_attempt,
                    failure,
                    retry_delay_seconds=self.settings.workflow_task_retry_delay_seconds,
                )
        raise AssertionError("unreachable: every attempt returns or raises")

    # ------------------------------------------------------------------ worker plane: activity tasks
    async def poll_activity_task(
        self,
        namespace: str,
        *,
        worker_id: str,
        task_queue: str,
        build_id: str | None,
        timeout: float | None = None,
        held_task_ids: Sequence[str] | None = None,
        hand_back_grace_seconds: float | None = None,
    ) -> ActivityTask | None:
        types: list[str] | None = None  # known after the first probe checked the registration
        registered_build: str | None = None  # the registration's build id (its cohort)

        async def attempt(tx: Tx, busy: list[ActivityTaskRow] | None) -> _ActivityClaim:
            assert types is not None
            return await claim_activity_task(
                tx,
                namespace=namespace,
                queue=task_queue,
                worker_id=worker_id,
                activity_types=types,
                lease_seconds=self.settings.activity_task_lease_seconds,
                build_id=registered_build,
                busy=busy,
            )

        async def claim() -> ActivityTask | None:
            nonlocal types, registered_build
            first_probe = types is None  # decided once: an aborted attempt checks again
            async for txn in self._tx():
                async with txn as tx:
                    if first_probe:
                        worker = await workers.registered_worker(
                            tx, namespace, worker_id, task_queue, build_id
                        )
                        types = list(worker["supported_activity_types"] or [])
                        registered_build = worker["build_id"]
                        if held_task_ids is not None:
                            handed = await activity_leases.hand_back(
                                tx, namespace, worker_id, set(held_task_ids), hand_back_grace_seconds
                            )
                            self._count_releases("repoll", 0, handed)
                    task, busy = await attempt(tx, None)
            if task is not None or not busy:
                return task
            # Every due task's run was held by another transaction: wait for them, run first.
            async for txn in self._tx():
                async with txn as tx:
                    task, _ = await attempt(tx, busy)
            return task

        async def release(task: ActivityTask) -> bool:
            """Hand back ``task`` exactly as this poll returned it."""
            return await self.release_activity_task(
                namespace,
                task["task_id"],
                activity_attempt_id=task["activity_attempt_id"],
                lease_owner=task["lease_owner"],
            )

        return await self._long_poll_claims("activity", namespace, task_queue, claim, release, timeout)

    async def _long_poll_claims(
        self,
        kind: str,
        namespace: str,
        task_queue: str,
        claim: Callable[[], Awaitable[_Task | None]],
        release: Callable[[_Task], Awaitable[bool]],
        timeout: float | None,
        wait: Wait[_Task] | None = None,
    ) -> _Task | None:
        """Long-poll ``claim`` for one task kind; a claim cancelled midway hands its task back."""

        async def probe() -> _Task | None:
            return await self._cancel_safe(claim, release)

        return await long_poll(
            self.waiters,
            ((kind, namespace, task_queue),),
            probe,
            timeout=self.settings.long_poll_timeout if timeout is None else timeout,
            reprobe_interval=self.reprobe_interval,
            wait=wait,
        )

    async def complete_activity_task(
        self,
        namespace: str,
        task_id: str,
        *,
        activity_attempt_id: str,
        lease_owner: str,
        result: Any,
        eager_workflow_task: bool = False,
        history_page_size: int | None = None,
    ) -> ActivityOutcomeResponse:
        async def resolve(tx: Tx) -> tuple[WorkerRow | None, bool | None]:
            return await self._eager_registration(tx, namespace, lease_owner)

        async for txn in self._tx():
            async with txn as tx:
                plan = None
                if eager_workflow_task:
                    plan = NextTaskLease(
                        resolve,
                        self.settings.workflow_task_lease_seconds,
                        self.settings.sticky_schedule_to_start_seconds,
                    )
                answer, run, queued = await activities.complete_waking(
                    tx,
                    namespace,
                    task_id,
                    activity_attempt_id,
                    lease_owner,
                    result,
                    queue=plan.queue if plan is not None else None,
                    eager_worker=plan is not None,
                )
                if plan is None:
                    return answer  # the answer SDK 0.4.84 knows, exactly
                handed: WorkflowTaskBody | None = None
                page_size = self._page_size(history_page_size)
                if plan.leased is not None:
                    # Inserted leased by the wake rule (workflow_tasks/eager.py): answered as claimed.
                    worker = None
                    handed = await hand_leased_workflow_task(tx, plan, run, page_size=page_size)
                    if handed is not None:
                        tx.wakes.discard(("workflow", namespace, run["task_queue"]))
                elif plan.engaged:
                    worker = plan.worker if queued else None  # read for the plan, in this transaction
                else:
                    worker = await self._eager_worker(tx, namespace, lease_owner) if queued else None
                if worker is not None:
                    handed = await hand_ready_task(
                        tx,
                        worker,
                        run,
                        lease_seconds=self.settings.workflow_task_lease_seconds,
                        page_size=page_size,
                        sticky_window=self.settings.sticky_schedule_to_start_seconds,
                        held=True,  # complete_waking locked it and keeps ``run`` current
                    )
                    if handed is not None:
                        # The one task this completion queued is leased: no poll needs waking.
                        tx.wakes.discard(("workflow", namespace, run["task_queue"]))
                eager_answer: EagerActivityCompletion = {**answer, "eager_workflow_task": handed}
                return eager_answer
        raise AssertionError("unreachable: every attempt returns or raises")

    async def fail_activity_task(
        self,
        namespace: str,
        task_id: str,
        *,
        activity_attempt_id: str,
        lease_owner: str,
        failure: dict[str, Any],
    ) -> ActivityOutcomeResponse:
        async for txn in self._tx():
            async with txn as tx:
                return await activities.fail(
                    tx, namespace, task_id, activity_attempt_id, lease_owner, failure
                )
        raise AssertionError("unreachable: every attempt returns or raises")

    async def heartbeat_activity_task(
        self,
        namespace: str,
        task_id: str,
        *,
        activity_attempt_id: str,
        lease_owner: str,
        progress: dict[str, Any],
    ) -> ActivityHeartbeatResponse:
        async for txn in self._tx():
            async with txn as tx:
                return await activities.heartbeat(
                    tx,
                    namespace,
                    task_id,
                    activity_attempt_id,
                    lease_owner,
                    progress,
                    self.settings.activity_task_lease_seconds,
                )
        raise AssertionError("unreachable: every attempt returns or raises")
