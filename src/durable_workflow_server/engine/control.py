"""Control-plane operations: start, describe, list, runs, history pages and the export bundle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy.exc import IntegrityError

from durable_workflow.protocol import errors as reasons

from ..store import tables as t
from ..store.rows import (
    ActivityExecutionRow,
    HistoryEventRow,
    InstanceRow,
    RunRow,
    TimerRow,
    WorkerRow,
    WorkflowTaskRow,
)
from ..store.statuses import OPEN_RUN_STATUSES, RunStatus
from .activities import rows as activity_rows
from .api import StartWorkflowRequest
from .core import EngineCore
from .errors import DomainError, ValidationFailed
from .external_storage import offloading
from .history import events as h
from .history import rows as history_event_rows
from .history.export import export_bundle
from .history.rows import history_rows
from .namespaces import rows as namespace_rows
from .rendering import bad_events, unrenderable_run
from .runs import rows, views
from .runs.close_wait import close_key, wait_for_close
from .runs.diagnostic_shapes import DebugWorkflowBody
from .runs.diagnostics import debug_view
from .runs.lifecycle import create_run
from .runs.rows import is_terminal_run, load_run, split_run
from .runs.views import RunInstance
from .runs.waiting import waiting_on
from .search_attributes.checks import check_start
from .search_attributes.listing import ListFilter, count_by_status, list_page
from .shapes import (
    ControlHistoryPage,
    DescribeWorkflowBody,
    EagerStartWorkflowBody,
    HistoryExportBundle,
    ListRunsResponse,
    ListWorkflowsResponse,
    StartWorkflowBody,
    WorkflowCountsBody,
    WorkflowTaskBody,
)
from .task_queues import cohorts
from .timers import rows as timer_rows
from .transaction import Tx
from .util import decode_token, encode_token, new_id
from .waiters import long_poll
from .waiting_shapes import WaitingOn
from .workers import rows as worker_rows
from .workers.rows import split_eager_worker
from .workflow_tasks import rows as workflow_task_rows
from .workflow_tasks.eager import FirstTaskLease, first_task_claimable, hand_first_leased, hand_ready_task
from .workflow_tasks.handoff import PollHandoff, hand_back, settle

DEFAULT_TASK_QUEUE = "default"
# A start's first read: its namespace still exists (locked), and its queue's promoted cohort.
_NAMESPACE_AND_PIN = namespace_rows.in_use_with(cohorts.PROMOTED_KEY)
# The same read for a start that names its eager worker (``b_worker_id``): that worker's
# registration too, as a completion's fence reads it (``tx.eager_workers``, one statement less).
_NAMESPACE_PIN_AND_WORKER = namespace_rows.in_use_with(
    cohorts.PROMOTED_KEY,
    *worker_rows.EAGER_WORKER_COLUMNS,
    outer_join=(t.workers, worker_rows.EAGER_WORKER_ON),
)
# The same, when a start may hand its task to a parked poll: also whether that poll's cohort is drained.
_NAMESPACE_PIN_AND_DRAIN = namespace_rows.in_use_with(cohorts.PROMOTED_KEY, cohorts.CLAIMER_DRAINING)
# A start without an eager worker folds that read into its first write (one statement less): the
# instance of a new workflow id, written only while the namespace exists (taken ``FOR KEY SHARE``
# by the same statement, before the row is written: the namespace is still the first row the
# start locks), its ``RETURNING`` the columns the read above would answer. No row: the id has an
# instance or the namespace is gone; the start then reads the namespace the usual way (refusing
# a missing one) and goes on with the id's instance.
_NAMESPACE_AND_PIN_INSERTING = rows.insert_instance_in_namespace(cohorts.PROMOTED_KEY)
_NAMESPACE_PIN_AND_DRAIN_INSERTING = rows.insert_instance_in_namespace(
    cohorts.PROMOTED_KEY, cohorts.CLAIMER_DRAINING
)
LIST_STATUSES = {
    "running": OPEN_RUN_STATUSES,
    "completed": {RunStatus.COMPLETED},
    "failed": {RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.TERMINATED},
}


class _InstanceMoved(Exception):
    """The instance moved to another run while its current run was being locked (or its run is gone)."""


class ControlPlane(EngineCore):
    """``EngineAPI`` control-plane methods (see docs/protocol.md)."""

    # ------------------------------------------------------------------ control plane: start
    @staticmethod
    def _start_body(namespace: str, run: RunRow, outcome: str) -> StartWorkflowBody:
        return {
            "workflow_id": run["workflow_id"],
            "run_id": run["run_id"],
            "workflow_type": run["workflow_type"],
            "namespace": namespace,
            "status": run["status"],
            "business_key": run["business_key"],
            "payload_codec": run["payload_codec"],
            "outcome": outcome,
            "command_status": "accepted",
            "command_source": "control_plane",
            "reason": None,
            "rejection_reason": None,
        }

    async def _eager_first_lease(
        self, tx: Tx, namespace: str, worker_id: str, queue: str, workflow_type: str, pinned: str | None
    ) -> tuple[WorkerRow | None, FirstTaskLease | None]:
        """The eager worker (``None``: unknown or silent), and the first task's lease if certain."""
        worker, draining = await self._eager_registration(tx, namespace, worker_id)
        if worker is None or not first_task_claimable(
            worker, draining, namespace=namespace, queue=queue, workflow_type=workflow_type, pinned=pinned
        ):
            return worker, None
        return worker, FirstTaskLease(worker, self.settings.workflow_task_lease_seconds)

    async def _eager_first_task(
        self, tx: Tx, worker: WorkerRow, run: RunRow, lease: FirstTaskLease | None
    ) -> WorkflowTaskBody | None:
        """The new run's first workflow task, leased to ``worker`` if it may take it now."""
        page_size = self.settings.history_page_size_default
        if lease is not None:
            # Inserted leased with the run (workflow_tasks/eager.py): answered as claimed.
            return await hand_first_leased(tx, lease, run, page_size=page_size)
        handed = await hand_ready_task(
            tx,
            worker,
            run,
            lease_seconds=self.settings.workflow_task_lease_seconds,
            page_size=page_size,
            sticky_window=self.settings.sticky_schedule_to_start_seconds,
            new_run=True,
        )
        if handed is not None:
            # The run's one task is leased: no poll needs waking for it.
            tx.wakes.discard(("workflow", run["namespace"], run["task_queue"]))
        return handed

    async def start_workflow(self, namespace: str, request: StartWorkflowRequest) -> StartWorkflowBody:
        # The HTTP layer's request model guarantees the shape: an envelope of a readable codec.
        codec, blob = request.input["codec"], request.input["blob"]
        for attempt in range(3):
            try:
                # Only the first try may hand its task to a parked poll (a retry of a start that
                # failed on an integrity error must not fail on that poll again).
                return await self._start_handing(namespace, request, codec, blob, attempt == 0)
            except (IntegrityError, _InstanceMoved):
                # Another process created the same workflow id concurrently, or moved it to a new
                # run meanwhile; re-read and decide again.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _start_handing(
        self, namespace: str, request: StartWorkflowRequest, codec: str, blob: str, may_hand: bool
    ) -> StartWorkflowBody:
        """:meth:`_start`, its first task handed to a poll parked in this process when one may take it.

        See ``workflow_tasks/handoff.py``: the poll is reserved here, before the transaction, and
        the task delivered (or the poll unreserved) after its commit.
        """
        queue = request.task_queue or DEFAULT_TASK_QUEUE
        offer = None
        if may_hand and request.eager_worker_id is None:
            offer = self.waiters.parked.reserve(namespace, queue, request.workflow_type)
        if offer is None:
            return await self._start(namespace, request, codec, blob, None)
        handoff = PollHandoff(offer, self.settings.workflow_task_lease_seconds)
        try:
            body = await self._start(namespace, request, codec, blob, handoff)
        except IntegrityError:
            # Retried without a hand-off, which queues the task ready and wakes this poll: no other
            # start may reserve it meanwhile (were its recorded poll the conflict, it would again).
            self.waiters.parked.withhold(offer)
            raise
        except BaseException:
            self.waiters.parked.unreserve(offer)
            raise

        async def release(task: WorkflowTaskBody) -> None:
            await hand_back(self._tx, namespace, task)

        await settle(self.waiters.parked, handoff, release)  # at once: see settle
        return body

    async def _start(
        self,
        namespace: str,
        request: StartWorkflowRequest,
        codec: str,
        blob: str,
        handoff: PollHandoff | None,
    ) -> StartWorkflowBody:
        workflow_id = request.workflow_id or new_id()
        async for txn in self._tx():
            async with txn as tx:
                # First, before any run row is locked (the delete's lock order): the namespace must
                # still exist when the run is written, not only when the request was let in.
                # With the cohort its new run pins to (task_queues/cohorts.py), in the same read
                # (and whether the cohort of the poll it may hand its task to is drained).
                queue = request.task_queue or DEFAULT_TASK_QUEUE
                params = {"b_namespace": namespace, "b_queue": queue}
                if handoff is not None:
                    handoff.begin()  # an attempt the database aborted handed nothing
                eager_worker_id = request.eager_worker_id
                run_number = 1
                run_id = new_id()
                instance_values = {
                    "workflow_id": workflow_id,
                    "namespace": namespace,
                    "workflow_type": request.workflow_type,
                    "current_run_id": run_id,
                    "run_count": run_number,
                    "created_at": tx.now,
                }
                if handoff is not None:
                    params["b_build_key"] = handoff.build_key
                found: dict[str, Any] | None = None
                if eager_worker_id is not None:
                    params["b_worker_id"] = eager_worker_id
                    read = await namespace_rows.require_with(tx, namespace, _NAMESPACE_PIN_AND_WORKER, params)
                    found, tx.eager_workers[(namespace, eager_worker_id)] = split_eager_worker(read)
                else:
                    # A new workflow id (the usual start) in an existing namespace: its instance,
                    # written at once, already pointing at the run created below (same transaction).
                    inserting = _NAMESPACE_AND_PIN_INSERTING
                    if handoff is not None:
                        inserting = _NAMESPACE_PIN_AND_DRAIN_INSERTING
                    found = await tx.one(inserting, {**params, **instance_values})
                created = found is not None and eager_worker_id is None
                if found is None:
                    # The id has an instance (or the namespace is gone: refused here).
                    found = await namespace_rows.require_with(
                        tx, namespace, _NAMESPACE_PIN_AND_DRAIN if handoff else _NAMESPACE_AND_PIN, params
                    )
                # Before anything else is written: a value that does not fit its type refuses the start.
                search_attributes, search_attribute_types = await check_start(
                    tx, namespace, request.search_attributes
                )
                if eager_worker_id is not None:
                    # A new workflow id: one statement (the namespace was read above).
                    result = await tx.conn.execute(rows.INSERT_INSTANCE_IF_ABSENT, instance_values)
                    created = result.rowcount == 1
                if not created:
                    # The id has an instance: it and its current run, locked (run first).
                    existing = await tx.one(rows.CURRENT_RUN_AND_INSTANCE, {"b_workflow_id": workflow_id})
                    if existing is None:
                        raise _InstanceMoved(workflow_id)
                    instance_row, current = split_run(existing)
                    instance = cast(InstanceRow, instance_row)
                    if instance["namespace"] != namespace:
                        raise DomainError(
                            reasons.WORKFLOW_ID_RESERVED_IN_NAMESPACE,
                            f"Workflow id [{workflow_id}] is already used in another namespace.",
                            workflow_id=workflow_id,
                            namespace=namespace,
                        )
                    if not is_terminal_run(current):
                        if current["workflow_type"] != request.workflow_type:
                            bound = current["workflow_type"]
                            message = f"Workflow id [{workflow_id}] is bound to type [{bound}]."
                            raise ValidationFailed({"workflow_type": [message]})
                        if request.duplicate_policy == "use-existing":
                            return self._start_body(namespace, current, "returned_existing_active")
                        raise DomainError(
                            reasons.DUPLICATE_NOT_ALLOWED,
                            f"Workflow [{workflow_id}] already has an open run.",
                            outcome="rejected_duplicate",
                            rejection_reason=reasons.INSTANCE_ALREADY_STARTED,
                            command_status="rejected",
                            workflow_id=workflow_id,
                            run_id=current["run_id"],
                            workflow_type=current["workflow_type"],
                            namespace=namespace,
                            status=current["status"],
                            business_key=current["business_key"],
                            payload_codec=current["payload_codec"],
                        )
                    run_number = int(instance["run_count"]) + 1
                    await tx.conn.execute(
                        rows.UPDATE_INSTANCE,
                        {
                            "b_workflow_id": workflow_id,
                            "current_run_id": run_id,
                            "run_count": run_number,
                            "workflow_type": request.workflow_type,
                        },
                    )
                blob = await offloading.accept(tx, namespace, run_id, codec, blob, field="input")
                worker: WorkerRow | None = None
                lease: FirstTaskLease | None = None
                if request.eager_worker_id is not None:
                    worker, lease = await self._eager_first_lease(
                        tx,
                        namespace,
                        request.eager_worker_id,
                        queue,
                        request.workflow_type,
                        found["promoted_build_key"],
                    )
                    if worker is not None:
                        # Its first task's page is the new run's whole history, all written
                        # here: answered from what is inserted, not read back.
                        history_event_rows.keep(tx, run_id)
                elif handoff is not None:
                    lease = handoff.lease_for(found["promoted_build_key"], bool(found["claimer_draining"]))
                    if lease is not None:  # its page too: the new run's whole history, written here
                        history_event_rows.keep(tx, run_id)
                run = await create_run(
                    tx,
                    namespace=namespace,
                    workflow_id=workflow_id,
                    workflow_type=request.workflow_type,
                    task_queue=queue,
                    payload_codec=codec,
                    input_blob=blob,
                    run_number=run_number,
                    pinned_build_key=found["promoted_build_key"],
                    pin_known=True,
                    business_key=request.business_key,
                    memo=request.memo,
                    search_attributes=search_attributes,
                    search_attribute_types=search_attribute_types,
                    execution_timeout_seconds=request.execution_timeout_seconds,
                    run_timeout_seconds=request.run_timeout_seconds,
                    run_id=run_id,
                    first_lease=lease,
                )
                body = self._start_body(namespace, run, "started_new")
                if handoff is not None and lease is not None:
                    # Leased to the parked poll with the run, so the answer says ``running``.
                    await handoff.answer(tx, run)
                if request.eager_worker_id is None:
                    return body
                first = None
                if worker is not None:  # else unknown or silent: the task waits for a poll
                    first = await self._eager_first_task(tx, worker, run, lease)
                if first is not None:
                    # The claim moved the run on (pending to running) on the row it locked: the
                    # answer says what the run is now, as the task it carries does.
                    body["status"] = first["run_status"]
                eager: EagerStartWorkflowBody = {**body, "eager_workflow_task": first}
                return eager
        raise AssertionError("unreachable: every attempt returns or raises")

    # ------------------------------------------------------------------ control plane: reads
    async def _instance(self, tx: Tx, namespace: str, workflow_id: str) -> InstanceRow | None:
        row = await tx.one(
            rows.INSTANCE_IN_NAMESPACE, {"b_workflow_id": workflow_id, "b_namespace": namespace}
        )
        return cast(InstanceRow | None, row)

    async def _run_of(
        self, tx: Tx, namespace: str, workflow_id: str, run_id: str
    ) -> tuple[InstanceRow, RunRow]:
        instance = await self._instance(tx, namespace, workflow_id)
        run = None
        if instance is not None:
            run = cast(
                RunRow | None,
                await tx.one(rows.RUN_OF_WORKFLOW, {"b_run_id": run_id, "b_workflow_id": workflow_id}),
            )
        if instance is None or run is None:
            raise DomainError(
                reasons.RUN_NOT_FOUND,
                f"Workflow run [{run_id}] was not found.",
                workflow_id=workflow_id,
                run_id=run_id,
            )
        return instance, run

    async def describe_workflow(self, namespace: str, workflow_id: str) -> DescribeWorkflowBody:
        # One snapshot: the run's status and what it waits on are read by two statements.
        async with self._snapshot() as tx:
            instance, run = await self._current_run(tx, namespace, workflow_id)
            return views.describe(run, instance, await self._waiting(tx, run))

    async def _describe_if_closed(self, namespace: str, workflow_id: str) -> DescribeWorkflowBody | None:
        """:meth:`describe_workflow` of a closed run (``None`` while it is open), in one statement.

        A closed run's describe reads only its run row (it waits on nothing), and one statement
        reads one snapshot by itself: a plain read (PostgreSQL: autocommit, no ``BEGIN``/``COMMIT``)
        answers exactly what the snapshot would. An open run's answer needs the second statement
        in the same snapshot, so the caller describes it the full way when it needs the body.
        """
        async with self._brief_read() as tx:  # one statement, nothing else awaited
            instance, run = await self._current_run(tx, namespace, workflow_id)
        return views.describe(run, instance, None) if is_terminal_run(run) else None

    @staticmethod
    async def _current_run(tx: Tx, namespace: str, workflow_id: str) -> tuple[RunInstance, RunRow]:
        row = await tx.one(rows.CURRENT_RUN, {"b_workflow_id": workflow_id, "b_namespace": namespace})
        if row is None:  # no such instance here, or it has no run yet
            raise DomainError(
                reasons.INSTANCE_NOT_FOUND,
                f"Workflow [{workflow_id}] was not found.",
                workflow_id=workflow_id,
            )
        instance = RunInstance(current_run_id=row.pop("i_current_run_id"), run_count=row.pop("i_run_count"))
        return instance, cast(RunRow, row)

    async def wait_workflow_closed(
        self, namespace: str, workflow_id: str, wait_seconds: float
    ) -> DescribeWorkflowBody:
        return await wait_for_close(
            self.waiters,
            lambda: self.describe_workflow(namespace, workflow_id),
            lambda: self._describe_if_closed(namespace, workflow_id),
            close_key(namespace, workflow_id),
            wait_seconds=wait_seconds,
            limit=self.settings.long_poll_timeout,
            reprobe_interval=self.reprobe_interval,
        )

    @staticmethod
    async def _waiting(tx: Tx, run: RunRow) -> WaitingOn | None:
        # A closed run waits on nothing: no second query.
        return None if is_terminal_run(run) else await waiting_on(tx, run["run_id"])

    async def describe_run(self, namespace: str, workflow_id: str, run_id: str) -> DescribeWorkflowBody:
        async with self._snapshot() as tx:
            instance, run = await self._run_of(tx, namespace, workflow_id, run_id)
            return views.describe(run, instance, await self._waiting(tx, run))

    async def debug_workflow(
        self, namespace: str, workflow_id: str, *, include_last_event_payload: bool = False
    ) -> DebugWorkflowBody:
        async with self._snapshot() as tx:
            row = await tx.one(rows.CURRENT_RUN, {"b_workflow_id": workflow_id, "b_namespace": namespace})
            if row is None:
                raise DomainError(
                    reasons.INSTANCE_NOT_FOUND,
                    f"Workflow [{workflow_id}] was not found.",
                    workflow_id=workflow_id,
                )
            run = cast(RunRow, row)
            return await self._debug(tx, run, include_last_event_payload)

    async def debug_run(
        self, namespace: str, workflow_id: str, run_id: str, *, include_last_event_payload: bool = False
    ) -> DebugWorkflowBody:
        async with self._snapshot() as tx:
            _, run = await self._run_of(tx, namespace, workflow_id, run_id)
            return await self._debug(tx, run, include_last_event_payload)

    async def _debug(self, tx: Tx, run: RunRow, include_last_event_payload: bool) -> DebugWorkflowBody:
        return await debug_view(
            tx,
            run,
            await self._waiting(tx, run),
            stale_after=self.settings.worker_stale_after_seconds,
            include_last_event_payload=include_last_event_payload,
        )

    async def list_workflows(
        self,
        namespace: str,
        *,
        workflow_type: str | None,
        status: str | None,
        query: str | None,
        page_size: int,
        next_page_token: str | None,
        task_queue: str | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        closed_after: datetime | None = None,
        closed_before: datetime | None = None,
    ) -> ListWorkflowsResponse:
        if status is not None and status not in LIST_STATUSES:
            raise ValidationFailed({"status": ["The status must be one of: running, completed, failed."]})
        where = ListFilter(
            workflow_type=workflow_type,
            statuses=frozenset(LIST_STATUSES[status]) if status is not None else None,
            task_queue=task_queue,
            query=query,
            started_after=started_after,
            started_before=started_before,
            closed_after=closed_after,
            closed_before=closed_before,
        )
        async with self._read() as tx:
            return await list_page(
                tx,
                namespace,
                where,
                page_size=max(1, min(int(page_size), 200)),
                next_page_token=next_page_token,
            )

    async def count_workflows(
        self,
        namespace: str,
        *,
        workflow_type: str | None = None,
        query: str | None = None,
        task_queue: str | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        closed_after: datetime | None = None,
        closed_before: datetime | None = None,
        limit: int | None = None,
    ) -> WorkflowCountsBody:
        where = ListFilter(
            workflow_type=workflow_type,
            task_queue=task_queue,
            query=query,
            started_after=started_after,
            started_before=started_before,
            closed_after=closed_after,
            closed_before=closed_before,
        )
        cap = max(1, int(limit)) if limit is not None else None
        statuses = {status for members in LIST_STATUSES.values() for status in members}
        async with self._read() as tx:
            per_status = await count_by_status(tx, namespace, where, statuses=statuses, cap=cap)
        by_status: dict[str, int] = {}
        at_least: list[str] = []
        for bucket, members in LIST_STATUSES.items():
            counts = [per_status.get(status, 0) for status in members]
            by_status[bucket] = sum(min(n, cap) if cap is not None else n for n in counts)
            if cap is not None and any(n > cap for n in counts):
                at_least.append(bucket)
        return {"workflow_count": sum(by_status.values()), "by_status": by_status, "at_least": at_least}

    async def list_runs(self, namespace: str, workflow_id: str) -> ListRunsResponse:
        async with self._read() as tx:
            instance = await self._instance(tx, namespace, workflow_id)
            if instance is None:
                raise DomainError(
                    reasons.INSTANCE_NOT_FOUND,
                    f"Workflow [{workflow_id}] was not found.",
                    workflow_id=workflow_id,
                )
            runs = cast(list[RunRow], await tx.all(rows.RUNS_OF_WORKFLOW, {"b_workflow_id": workflow_id}))
        return {
            "workflow_id": workflow_id,
            "run_count": len(runs),
            "runs": [views.run_row(r, instance["current_run_id"]) for r in runs],
        }

    async def history_page(
        self,
        namespace: str,
        workflow_id: str,
        run_id: str,
        *,
        page_size: int,
        next_page_token: str | None,
        wait_new_event: bool,
    ) -> ControlHistoryPage:
        after = 0
        if next_page_token:
            decoded = decode_token(next_page_token)
            if decoded is None:
                raise DomainError(
                    reasons.INVALID_PAGE_TOKEN, "The next_page_token is not a valid history token."
                )
            after = decoded
        page_size = max(1, min(int(page_size), 1000))

        def shape(run: RunRow, rows: Sequence[HistoryEventRow]) -> ControlHistoryPage:
            bad = bad_events(rows)
            if bad:
                raise unrenderable_run(workflow_id, run_id, bad)
            last = rows[-1]["sequence"] if rows else after
            more = last < int(run["last_history_sequence"])
            # A follower of a live run keeps a cursor even when it has caught up.
            follow = wait_new_event and not is_terminal_run(run)
            return {
                "workflow_id": workflow_id,
                "run_id": run_id,
                "events": [h.control_event(r) for r in rows],
                "next_page_token": encode_token(last) if (more or (follow and last > 0)) else None,
            }

        async with self._read() as tx:
            _, run = await self._run_of(tx, namespace, workflow_id, run_id)
            if not wait_new_event:  # the common case: one snapshot answers it
                return shape(run, await history_rows(tx, run_id, after=after, limit=page_size))

        async def probe(require_events: bool) -> ControlHistoryPage | None:
            async with self._read() as tx:
                run = await load_run(tx, run_id, lock=False)
                assert run is not None
                rows = await history_rows(tx, run_id, after=after, limit=page_size)
            if require_events and not rows and not is_terminal_run(run):
                return None
            return shape(run, rows)

        result = await long_poll(
            self.waiters,
            (("history", run_id),),
            lambda: probe(True),
            timeout=self.settings.long_poll_timeout,
            reprobe_interval=self.reprobe_interval,
        )
        if result is not None:
            return result
        page = await probe(False)
        assert page is not None
        return page

    async def export_history(self, namespace: str, workflow_id: str, run_id: str) -> HistoryExportBundle:
        async with self._read() as tx:
            instance, run = await self._run_of(tx, namespace, workflow_id, run_id)
            of_run = {"b_run_id": run_id}
            events = cast(list[HistoryEventRow], await tx.all(history_event_rows.ALL_OF_RUN, of_run))
            tasks = cast(list[WorkflowTaskRow], await tx.all(workflow_task_rows.OF_RUN, of_run))
            acts = cast(list[ActivityExecutionRow], await tx.all(activity_rows.EXECUTIONS_OF_RUN, of_run))
            tmrs = cast(list[TimerRow], await tx.all(timer_rows.OF_RUN, of_run))
            return export_bundle(
                run=run,
                instance=instance,
                events=events,
                tasks=tasks,
                activities=acts,
                timers=tmrs,
                exported_at=tx.now,
            )
