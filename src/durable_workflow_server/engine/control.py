"""Control-plane operations: start, describe, list, runs, history pages and the export bundle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.codec import SUPPORTED_CODECS, is_envelope
from durable_workflow.protocol.history import RunStatus

from ..store import tables as t
from . import history as h
from . import views
from .api import StartWorkflowRequest
from .core import EngineCore
from .dispatch import history_rows, long_poll
from .errors import DomainError, ValidationFailed
from .rendering import renderable, unrenderable_run
from .runs import Tx, is_terminal_run, load_run
from .starts import create_run
from .util import decode_token, encode_token, new_id

DEFAULT_TASK_QUEUE = "default"
LIST_STATUSES = {
    "running": RunStatus.OPEN,
    "completed": {RunStatus.COMPLETED},
    "failed": {RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.TERMINATED},
}


_wi, _wr = t.workflow_instances, t.workflow_runs
_INSTANCE = sa.select(_wi).where(_wi.c.workflow_id == sa.bindparam("b_workflow_id"))
_INSTANCE_IN_NAMESPACE = sa.select(_wi).where(
    _wi.c.workflow_id == sa.bindparam("b_workflow_id"), _wi.c.namespace == sa.bindparam("b_namespace")
)
# The instance's current run, locked before the instance itself (the engine's lock order: run
# first, as continue-as-new holds its run while it moves the instance on).
_CURRENT_RUN_LOCKING = sa.select(_wr).where(
    _wr.c.run_id
    == sa.select(_wi.c.current_run_id)
    .where(_wi.c.workflow_id == sa.bindparam("b_workflow_id"))
    .scalar_subquery()
)
_INSERT_INSTANCE = sa.insert(_wi)
_UPDATE_INSTANCE = sa.update(_wi).where(_wi.c.workflow_id == sa.bindparam("b_workflow_id"))
_RUN_OF_WORKFLOW = sa.select(_wr).where(
    _wr.c.run_id == sa.bindparam("b_run_id"), _wr.c.workflow_id == sa.bindparam("b_workflow_id")
)
# Describe: the instance's current run and the two instance fields the answer needs, in one query.
_CURRENT_RUN = (
    sa.select(_wr, _wi.c.current_run_id.label("i_current_run_id"), _wi.c.run_count.label("i_run_count"))
    .select_from(_wi.join(_wr, _wr.c.run_id == _wi.c.current_run_id))
    .where(_wi.c.workflow_id == sa.bindparam("b_workflow_id"), _wi.c.namespace == sa.bindparam("b_namespace"))
)


class _InstanceMoved(Exception):
    """The instance moved to another run between locking its current run and the instance."""


class ControlPlane(EngineCore):
    """``EngineAPI`` control-plane methods (control-plane.md §8.3)."""

    # ------------------------------------------------------------------ control plane: start
    @staticmethod
    def _check_start(request: StartWorkflowRequest) -> tuple[str, str]:
        errors: dict[str, list[str]] = {}
        env = request.input
        codec: Any = "avro"
        blob: Any = None
        if not is_envelope(env) or "blob" not in env:
            errors["input"] = ["The input must be a {codec, blob} envelope."]
        else:
            codec, blob = env.get("codec"), env.get("blob")
            if codec not in SUPPORTED_CODECS:
                errors["input.codec"] = [f"Unknown payload codec [{codec}]; use avro."]
            if not isinstance(blob, str):
                errors["input.blob"] = ["The input blob must be a string."]
        if request.duplicate_policy not in ("fail", "use-existing"):
            errors["duplicate_policy"] = ["The duplicate_policy must be one of: fail, use-existing."]
        if not request.workflow_type:
            errors["workflow_type"] = ["The workflow_type field is required."]
        if errors:
            raise ValidationFailed(errors)
        return str(codec), str(blob)

    @staticmethod
    def _start_body(namespace: str, run: Mapping[str, Any], outcome: str) -> dict[str, Any]:
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

    async def start_workflow(self, namespace: str, request: StartWorkflowRequest) -> dict[str, Any]:
        codec, blob = self._check_start(request)
        for attempt in range(3):
            try:
                return await self._start(namespace, request, codec, blob)
            except (IntegrityError, _InstanceMoved):
                # Another process created the same workflow id concurrently, or moved it to a new
                # run meanwhile; re-read and decide again.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _start(
        self, namespace: str, request: StartWorkflowRequest, codec: str, blob: str
    ) -> dict[str, Any]:
        workflow_id = request.workflow_id or new_id()
        async with self._tx() as tx:
            params = {"b_workflow_id": workflow_id}
            current = await tx.one(tx.store.lock(_CURRENT_RUN_LOCKING), params)
            instance = await tx.one(tx.store.lock(_INSTANCE), params)
            if instance is not None and instance["current_run_id"] != (current or {}).get("run_id"):
                raise _InstanceMoved(workflow_id)
            if instance is not None and instance["namespace"] != namespace:
                raise DomainError(
                    reasons.WORKFLOW_ID_RESERVED_IN_NAMESPACE,
                    f"Workflow id [{workflow_id}] is already used in another namespace.",
                    workflow_id=workflow_id,
                    namespace=namespace,
                )
            run_number = 1
            run_id = new_id()
            if instance is not None:
                if current is not None and not is_terminal_run(current):
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
                    _UPDATE_INSTANCE,
                    {
                        "b_workflow_id": workflow_id,
                        "current_run_id": run_id,
                        "run_count": run_number,
                        "workflow_type": request.workflow_type,
                    },
                )
            else:
                # Written once, already pointing at the run created below (same transaction).
                await tx.conn.execute(
                    _INSERT_INSTANCE,
                    {
                        "workflow_id": workflow_id,
                        "namespace": namespace,
                        "workflow_type": request.workflow_type,
                        "current_run_id": run_id,
                        "run_count": run_number,
                        "created_at": tx.now,
                    },
                )
            run = await create_run(
                tx,
                namespace=namespace,
                workflow_id=workflow_id,
                workflow_type=request.workflow_type,
                task_queue=request.task_queue or DEFAULT_TASK_QUEUE,
                payload_codec=codec,
                input_blob=blob,
                run_number=run_number,
                business_key=request.business_key,
                memo=request.memo,
                search_attributes=request.search_attributes,
                execution_timeout_seconds=request.execution_timeout_seconds,
                run_timeout_seconds=request.run_timeout_seconds,
                run_id=run_id,
            )
            return self._start_body(namespace, run, "started_new")

    # ------------------------------------------------------------------ control plane: reads
    async def _instance(self, tx: Tx, namespace: str, workflow_id: str) -> dict[str, Any] | None:
        return await tx.one(_INSTANCE_IN_NAMESPACE, {"b_workflow_id": workflow_id, "b_namespace": namespace})

    async def _run_of(
        self, tx: Tx, namespace: str, workflow_id: str, run_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        instance = await self._instance(tx, namespace, workflow_id)
        run = None
        if instance is not None:
            run = await tx.one(_RUN_OF_WORKFLOW, {"b_run_id": run_id, "b_workflow_id": workflow_id})
        if instance is None or run is None:
            raise DomainError(
                reasons.RUN_NOT_FOUND,
                f"Workflow run [{run_id}] was not found.",
                workflow_id=workflow_id,
                run_id=run_id,
            )
        return instance, run

    async def describe_workflow(self, namespace: str, workflow_id: str) -> dict[str, Any]:
        async with self._read() as tx:
            row = await tx.one(_CURRENT_RUN, {"b_workflow_id": workflow_id, "b_namespace": namespace})
        if row is None:  # no such instance here, or it has no run yet
            raise DomainError(
                reasons.INSTANCE_NOT_FOUND,
                f"Workflow [{workflow_id}] was not found.",
                workflow_id=workflow_id,
            )
        instance = {"current_run_id": row.pop("i_current_run_id"), "run_count": row.pop("i_run_count")}
        return views.describe(row, instance)

    async def describe_run(self, namespace: str, workflow_id: str, run_id: str) -> dict[str, Any]:
        async with self._read() as tx:
            instance, run = await self._run_of(tx, namespace, workflow_id, run_id)
            return views.describe(run, instance)

    async def list_workflows(
        self,
        namespace: str,
        *,
        workflow_type: str | None,
        status: str | None,
        query: str | None,
        page_size: int,
        next_page_token: str | None,
    ) -> dict[str, Any]:
        if status is not None and status not in LIST_STATUSES:
            raise ValidationFailed({"status": ["The status must be one of: running, completed, failed."]})
        offset = (decode_token(next_page_token) if next_page_token else 0) or 0
        page_size = max(1, min(int(page_size), 200))
        wr = t.workflow_runs
        stmt = sa.select(wr).where(wr.c.namespace == namespace)
        if workflow_type:
            stmt = stmt.where(wr.c.workflow_type == workflow_type)
        if status is not None:
            stmt = stmt.where(wr.c.status.in_(sorted(LIST_STATUSES[status])))
        if query:
            stmt = stmt.where(
                sa.or_(
                    wr.c.workflow_id.contains(query, autoescape=True),
                    wr.c.business_key.contains(query, autoescape=True),
                )
            )
        stmt = stmt.order_by(wr.c.started_at.desc(), wr.c.run_id.desc()).offset(offset).limit(page_size + 1)
        async with self._read() as tx:
            rows = await tx.all(stmt)
        more = len(rows) > page_size
        rows = rows[:page_size]
        return {
            "workflows": [views.list_row(r) for r in rows],
            "workflow_count": len(rows),
            "next_page_token": encode_token(offset + page_size) if more else None,
        }

    async def list_runs(self, namespace: str, workflow_id: str) -> dict[str, Any]:
        wr = t.workflow_runs
        async with self._read() as tx:
            instance = await self._instance(tx, namespace, workflow_id)
            if instance is None:
                raise DomainError(
                    reasons.INSTANCE_NOT_FOUND,
                    f"Workflow [{workflow_id}] was not found.",
                    workflow_id=workflow_id,
                )
            rows = await tx.all(
                sa.select(wr).where(wr.c.workflow_id == workflow_id).order_by(wr.c.run_number)
            )
        return {
            "workflow_id": workflow_id,
            "run_count": len(rows),
            "runs": [views.run_row(r, instance["current_run_id"]) for r in rows],
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
    ) -> dict[str, Any]:
        after = 0
        if next_page_token:
            decoded = decode_token(next_page_token)
            if decoded is None:
                raise DomainError(
                    reasons.INVALID_PAGE_TOKEN, "The next_page_token is not a valid history token."
                )
            after = decoded
        page_size = max(1, min(int(page_size), 1000))

        def shape(run: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
            bad = [f"history event {r['sequence']}" for r in rows if not renderable(r["payload"])]
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

        async def probe(require_events: bool) -> dict[str, Any] | None:
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

    async def export_history(self, namespace: str, workflow_id: str, run_id: str) -> dict[str, Any]:
        async with self._read() as tx:
            instance, run = await self._run_of(tx, namespace, workflow_id, run_id)
            he, wt, ae, tm = t.history_events, t.workflow_tasks, t.activity_executions, t.timers
            events = await tx.all(sa.select(he).where(he.c.run_id == run_id).order_by(he.c.sequence))
            tasks = await tx.all(
                sa.select(wt).where(wt.c.run_id == run_id).order_by(wt.c.created_at, wt.c.task_id)
            )
            acts = await tx.all(sa.select(ae).where(ae.c.run_id == run_id).order_by(ae.c.sequence))
            tmrs = await tx.all(sa.select(tm).where(tm.c.run_id == run_id).order_by(tm.c.sequence))
            return views.export_bundle(
                run=run,
                instance=instance,
                events=events,
                tasks=tasks,
                activities=acts,
                timers=tmrs,
                exported_at=tx.now,
            )
