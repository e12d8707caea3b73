"""``QueryTasks``: the engine methods of queries and of the worker's query-task routes.

A query never writes history: it is answered by a live worker that replays the run's committed
history. The caller's request is parked until that answer, or until ``query_task_timeout``.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.wire import Envelope

from ...store.rows import QueryTaskRow, RunRow
from ..core import EngineCore
from ..errors import DomainError, WorkerRefusal
from ..external_storage import offloading
from ..targets import lock_target
from ..util import seconds
from ..waiters import cancel_safe, long_poll
from ..workers import registry as workers
from . import broker, rows
from .broker import Answer, QueryKind
from .shapes import QueryFailure, QueryResultBody, QueryTaskBody, QueryTaskOutcomeResponse


class QueryTasks(EngineCore):
    """``EngineAPI`` methods of queries (control plane) and query tasks (worker plane)."""

    async def ask_worker(
        self,
        run: RunRow,
        *,
        kind: QueryKind,
        name: str,
        arguments: Envelope | None,
    ) -> Answer:
        """Hand a query task for ``run`` to the broker and wait for a worker's answer.

        The task row is inserted in its own transaction, so a worker in any process can lease
        it; it is deleted once answered or given up on, whatever ends the wait (a timeout, the
        caller hanging up).
        """
        timeout = self.settings.query_task_timeout
        async for txn in self._tx():
            async with txn as tx:
                expires_at = tx.now + seconds(timeout)
                query_task_id = await broker.enqueue(
                    tx, run, kind=kind, name=name, arguments=arguments, expires_at=expires_at
                )

        async def probe() -> Answer | None:
            async with self._read() as tx:
                task = await tx.one(rows.TASK, {"b_query_task_id": query_task_id})
            return broker.answer_of(cast(QueryTaskRow | None, task))

        try:
            answered = await long_poll(
                self.waiters,
                (broker.result_key(run["namespace"], query_task_id),),
                probe,
                timeout=timeout,
                reprobe_interval=self.reprobe_interval,
            )
        finally:
            await asyncio.shield(self._forget(query_task_id))
        return answered or Answer("timed_out")

    async def _forget(self, query_task_id: str) -> None:
        async for txn in self._tx():
            async with txn as tx:
                await tx.conn.execute(rows.DELETE, {"b_query_task_id": query_task_id})

    async def live_query_worker(self, run: RunRow, capability: str | None = None) -> bool:
        async with self._read() as tx:
            return await broker.live_worker(tx, run, self.settings.worker_stale_after_seconds, capability)

    async def query_workflow(
        self,
        namespace: str,
        workflow_id: str,
        query_name: str,
        *,
        run_id: str | None = None,
        arguments: Envelope | None = None,
    ) -> QueryResultBody:
        # Closed runs answer queries too (their final state), as long as a worker is live.
        async for txn in self._tx():
            async with txn as tx:
                target = await lock_target(tx, namespace, workflow_id, run_id, require_open=False)
                live = await broker.live_worker(tx, target.run, self.settings.worker_stale_after_seconds)
                # Query arguments are not stored: a sender's reference is only fetched and verified.
                arguments = await offloading.resolve_envelope(tx, namespace, arguments, field="input")
        run = target.run
        context = {
            "workflow_id": run["workflow_id"],
            "run_id": run["run_id"],
            "target_scope": target.scope,
            "query_name": query_name,
            "result": None,
        }
        if not live:
            raise DomainError(
                reasons.QUERY_WORKER_UNAVAILABLE,
                f"No live worker on task queue [{run['task_queue']}] can answer queries for "
                f"workflow type [{run['workflow_type']}].",
                **context,
            )
        answer = await self.ask_worker(run, kind=broker.QUERY, name=query_name, arguments=arguments)
        if answer.status == "timed_out":
            raise DomainError(
                reasons.QUERY_WORKER_TIMEOUT,
                f"No worker answered query [{query_name}] within "
                f"{self.settings.query_task_timeout:g} seconds.",
                **context,
            )
        if answer.status == "failed":
            failure: QueryFailure = answer.failure or {}
            raise WorkerRefusal(
                str(failure.get("reason") or reasons.QUERY_REJECTED),
                str(failure.get("message") or f"Query [{query_name}] was rejected by the worker."),
                **context,
            )
        return {
            "workflow_id": run["workflow_id"],
            "run_id": run["run_id"],
            "target_scope": target.scope,
            "query_name": query_name,
            "result": answer.result,
            "result_envelope": answer.result_envelope,
            "reason": None,
        }

    # ------------------------------------------------------------------ worker plane
    async def poll_query_task(
        self, namespace: str, *, worker_id: str, task_queue: str, timeout: float | None = None
    ) -> QueryTaskBody | None:
        async with self._read() as tx:
            worker = await workers.registered_worker(tx, namespace, worker_id, task_queue, None)

        async def claim() -> QueryTaskBody | None:
            async for txn in self._tx():
                async with txn as tx:
                    return await broker.claim(
                        tx, namespace, task_queue, worker, self.settings.query_lease_seconds
                    )
            raise AssertionError("unreachable: every attempt returns or raises")

        async def release(task: QueryTaskBody) -> bool:
            """Hand back ``task`` exactly as this poll returned it."""
            return await self.release_query_task(
                namespace,
                task["query_task_id"],
                lease_owner=task["lease_owner"],
                query_task_attempt=task["query_task_attempt"],
            )

        async def probe() -> QueryTaskBody | None:
            return await cancel_safe(claim, release)

        return await long_poll(
            self.waiters,
            (broker.poll_key(namespace, task_queue),),
            probe,
            timeout=min(self.settings.query_task_poll_timeout, self.settings.long_poll_timeout)
            if timeout is None
            else timeout,
            reprobe_interval=self.reprobe_interval,
        )

    async def release_query_task(
        self, namespace: str, query_task_id: str, *, lease_owner: str, query_task_attempt: int
    ) -> bool:
        params = {"b_query_task_id": query_task_id, "b_namespace": namespace}
        async for txn in self._tx():
            async with txn as tx:
                task = await tx.one(tx.store.lock(rows.TASK_IN), params)
                if task is None:
                    return False
                released = await tx.conn.execute(
                    rows.RELEASE, {**params, "b_lease_owner": lease_owner, "b_attempt": query_task_attempt}
                )
                if released.rowcount != 1:
                    return False
                tx.wakes.add(broker.poll_key(namespace, task["task_queue"]))
                return True
        raise AssertionError("unreachable: every attempt returns or raises")

    async def complete_query_task(
        self,
        namespace: str,
        query_task_id: str,
        *,
        lease_owner: str,
        query_task_attempt: int,
        result: Any,
        result_envelope: Envelope | None,
    ) -> QueryTaskOutcomeResponse:
        async for txn in self._tx():
            async with txn as tx:
                task = await broker.fence(tx, namespace, query_task_id, lease_owner, query_task_attempt)
                await broker.answer(tx, task, result=result, result_envelope=result_envelope)
        return {
            "query_task_id": query_task_id,
            "query_task_attempt": query_task_attempt,
            "outcome": "completed",
            "reason": None,
        }

    async def fail_query_task(
        self,
        namespace: str,
        query_task_id: str,
        *,
        lease_owner: str,
        query_task_attempt: int,
        failure: QueryFailure,
    ) -> QueryTaskOutcomeResponse:
        not_mine = failure.get("reason") == reasons.QUERY_WORKFLOW_TYPE_NOT_REGISTERED
        async for txn in self._tx():
            async with txn as tx:
                task = await broker.fence(tx, namespace, query_task_id, lease_owner, query_task_attempt)
                if not_mine:  # this worker does not run the type: another one may
                    await broker.hand_back(tx, task)
                else:
                    await broker.answer(tx, task, failure=failure)
        return {
            "query_task_id": query_task_id,
            "query_task_attempt": query_task_attempt,
            "outcome": "released" if not_mine else "failed",
            "reason": None,
        }
