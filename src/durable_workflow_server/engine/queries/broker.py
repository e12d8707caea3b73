"""The query-task broker over the ``query_tasks`` table (see docs/protocol.md, "Queries").

Every server process sharing the database can hand a task out and deliver its answer: the
caller's process inserts the row and waits on the wake key ``("query_result", namespace, id)``;
any process's worker poll leases it (``("query", namespace, queue)`` wakes pollers); the
answering process writes the answer into the row and announces the result key, which reaches
the caller's process through the post-commit wake-ups (PostgreSQL ``NOTIFY`` across processes).
Nothing here touches a run's rows: queries never write history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from durable_workflow.protocol import capabilities as caps
from durable_workflow.protocol import codec
from durable_workflow.protocol import errors as reasons
from durable_workflow.protocol.wire import Envelope

from ...store.rows import HistoryEventRow, QueryTaskRow, RunRow, WorkerRow
from ...store.statuses import QueryTaskStatus, WorkerStatus
from ..errors import DomainError
from ..external_storage.stored import wire_envelope
from ..history import rows as history_rows
from ..runs.rows import load_run
from ..task_queues import cohorts
from ..transaction import OpenTx, Tx
from ..util import new_id, rfc3339, seconds
from ..workers.registry import is_fresh
from ..workers.rows import WORKERS_ON_QUEUE
from . import rows
from .shapes import QueryFailure, QueryTaskBody, QueryTaskEvent

QueryKind = Literal["query", "update_validation"]
QUERY: QueryKind = "query"
UPDATE_VALIDATION: QueryKind = "update_validation"
# Workers of these runtimes execute workflow code in-process (the reference's PHP engine) and
# never poll query tasks.
_IN_PROCESS_RUNTIMES = frozenset({"php"})


def poll_key(namespace: str, queue: str) -> tuple[str, str, str]:
    return ("query", namespace, queue)


def result_key(namespace: str, query_task_id: str) -> tuple[str, str, str]:
    return ("query_result", namespace, query_task_id)


def answers_queries(worker: WorkerRow) -> bool:
    """Whether ``worker`` polls query tasks: it promised ``query_tasks`` and runs workflow types.

    SDK 0.4.84 promises ``query_tasks`` even on a worker that runs only activities, which then
    refuses every task; a worker that names no workflow type is never counted nor handed one.
    """
    return (
        worker["runtime"] not in _IN_PROCESS_RUNTIMES
        and bool(worker["supported_workflow_types"])
        and caps.WORKER_QUERY_TASKS in (worker["capabilities"] or [])
    )


def _serves(worker: WorkerRow, run: RunRow, capability: str | None) -> bool:
    return (
        answers_queries(worker)
        and run["workflow_type"] in (worker["supported_workflow_types"] or [])
        and (capability is None or capability in (worker["capabilities"] or []))
        # A run pinned to a build is answered by that build's workers only.
        and cohorts.may_claim_for(run["pinned_build_key"], worker["build_id"])
    )


async def live_worker(tx: Tx, run: RunRow, stale_after: float, capability: str | None = None) -> bool:
    """Whether a worker that can answer is live on the run's queue (fresh heartbeat, type served)."""
    workers = cast(
        list[WorkerRow],
        await tx.all(WORKERS_ON_QUEUE, {"b_namespace": run["namespace"], "b_queue": run["task_queue"]}),
    )
    return any(
        w["status"] == WorkerStatus.ACTIVE
        and is_fresh(w, tx.now, stale_after)
        and _serves(w, run, capability)
        for w in workers
    )


async def enqueue(
    tx: Tx, run: RunRow, *, kind: QueryKind, name: str, arguments: Envelope | None, expires_at: datetime
) -> str:
    """Insert a pending query task for ``run`` and wake the queue's query pollers."""
    query_task_id = new_id()
    await tx.conn.execute(
        rows.INSERT,
        {
            "query_task_id": query_task_id,
            "namespace": run["namespace"],
            "task_queue": run["task_queue"],
            "workflow_id": run["workflow_id"],
            "run_id": run["run_id"],
            "workflow_type": run["workflow_type"],
            "kind": kind,
            "query_name": name,
            "arguments": arguments,
            "status": QueryTaskStatus.PENDING,
            "attempt": 0,
            "lease_owner": None,
            "lease_expires_at": None,
            "result": None,
            "failure": None,
            "created_at": tx.now,
            "expires_at": expires_at,
        },
    )
    tx.wakes.add(poll_key(run["namespace"], run["task_queue"]))
    return query_task_id


def _event(row: HistoryEventRow) -> QueryTaskEvent:
    return {
        "id": row["id"],
        "sequence": row["sequence"],
        "event_type": row["event_type"],
        "payload": row["payload"],
        "workflow_task_id": row["workflow_task_id"],
        "workflow_command_id": row["workflow_command_id"],
        "recorded_at": rfc3339(row["recorded_at"]),
    }


async def _payload(tx: Tx, task: QueryTaskRow, run: RunRow) -> QueryTaskBody:
    events = cast(list[HistoryEventRow], await tx.all(history_rows.ALL_OF_RUN, {"b_run_id": run["run_id"]}))
    blob = run["input_blob"]
    arguments = task["arguments"]
    lease_expires_at = task["lease_expires_at"]
    assert task["lease_owner"] is not None and lease_expires_at is not None  # just leased
    body: QueryTaskBody = {
        "query_task_id": task["query_task_id"],
        "query_task_attempt": task["attempt"],
        "query_task_kind": task["kind"],
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "workflow_type": run["workflow_type"],
        "task_queue": task["task_queue"],
        "query_name": task["query_name"],
        "payload_codec": run["payload_codec"],
        "workflow_arguments": wire_envelope(run["payload_codec"], blob) if blob is not None else None,
        "query_arguments": (
            {"codec": arguments["codec"], "blob": arguments["blob"]}
            if arguments
            else {"codec": None, "blob": None}
        ),
        "run_status": run["status"],
        "last_history_sequence": run["last_history_sequence"],
        "history_events": [_event(r) for r in events],
        "lease_owner": task["lease_owner"],
        "lease_expires_at": rfc3339(lease_expires_at),
    }
    if task["kind"] == UPDATE_VALIDATION:
        body["update_name"] = task["query_name"]
    return body


async def claim(
    tx: Tx, namespace: str, queue: str, worker: WorkerRow, lease_seconds: float
) -> QueryTaskBody | None:
    """Lease the oldest claimable query task of ``queue`` that ``worker`` can answer."""
    if not answers_queries(worker):
        return None
    types = list(worker["supported_workflow_types"] or [])
    kinds: tuple[str, ...] = (QUERY,)
    if caps.WORKER_UPDATE_VALIDATION in (worker["capabilities"] or []):
        kinds = (QUERY, UPDATE_VALIDATION)
    params: dict[str, Any] = {
        "b_namespace": namespace,
        "b_queue": queue,
        "b_now": tx.now,
        "b_types": types,
        "b_build_key": cohorts.build_key(worker["build_id"]),  # a drained cohort claims none
    }
    stmt = tx.store.claim(rows.candidates(kinds=kinds))
    for candidate in cast(list[QueryTaskRow], await tx.all(stmt, params)):
        run = await load_run(tx, candidate["run_id"], lock=False)
        if run is None:  # the run is gone: nobody can answer this
            await tx.conn.execute(rows.DELETE, {"b_query_task_id": candidate["query_task_id"]})
            continue
        if not cohorts.may_claim_for(run["pinned_build_key"], worker["build_id"]):
            continue  # pinned to another build
        values = {
            "status": QueryTaskStatus.LEASED,
            "attempt": candidate["attempt"] + 1,
            "lease_owner": worker["worker_id"],
            "lease_expires_at": tx.now + seconds(lease_seconds),
        }
        leased = await tx.conn.execute(
            rows.LEASE,
            {
                "b_query_task_id": candidate["query_task_id"],
                "b_attempt": candidate["attempt"],
                "b_now": tx.now,
                **values,
            },
        )
        if leased.rowcount != 1:
            continue
        return await _payload(tx, cast(QueryTaskRow, {**candidate, **values}), run)
    return None


def _rejected(
    reason: str, message: str, query_task_id: str, attempt: int | None, **extra: Any
) -> DomainError:
    return DomainError(
        reason,
        message,
        query_task_id=query_task_id,
        query_task_attempt=attempt,
        outcome="rejected",
        **extra,
    )


async def fence(tx: Tx, namespace: str, query_task_id: str, lease_owner: str, attempt: int) -> QueryTaskRow:
    """The query task, locked, if ``(lease_owner, attempt)`` holds its lease (the query-task fence)."""
    params = {"b_query_task_id": query_task_id, "b_namespace": namespace}
    task = cast(QueryTaskRow | None, await tx.one(tx.store.lock(rows.TASK_IN), params))
    if task is None:
        raise _rejected(
            reasons.QUERY_TASK_NOT_FOUND,
            f"Query task [{query_task_id}] was not found.",
            query_task_id,
            attempt,
        )
    if task["status"] != QueryTaskStatus.LEASED:
        raise _rejected(
            reasons.QUERY_TASK_NOT_LEASED,
            f"Query task [{query_task_id}] is not leased.",
            query_task_id,
            attempt,
            task_status=task["status"],
        )
    if task["expires_at"] <= tx.now:  # its caller has stopped waiting: nobody reads an answer
        raise _rejected(
            reasons.QUERY_TASK_TIMED_OUT,
            f"The caller of query task [{query_task_id}] has stopped waiting.",
            query_task_id,
            attempt,
        )
    expires = task["lease_expires_at"]
    if expires is not None and expires <= tx.now:
        raise _rejected(
            reasons.LEASE_EXPIRED,
            f"The lease of query task [{query_task_id}] has expired.",
            query_task_id,
            attempt,
            lease_owner=task["lease_owner"],
            lease_expires_at=rfc3339(expires),
        )
    if task["lease_owner"] != lease_owner:
        raise _rejected(
            reasons.LEASE_OWNER_MISMATCH,
            f"Query task [{query_task_id}] is leased to another worker.",
            query_task_id,
            attempt,
            lease_owner=task["lease_owner"],
        )
    if task["attempt"] != attempt:
        raise _rejected(
            reasons.QUERY_TASK_ATTEMPT_MISMATCH,
            f"Query task [{query_task_id}] is at attempt {task['attempt']}.",
            query_task_id,
            attempt,
            current_attempt=task["attempt"],
        )
    return task


async def hand_back(tx: Tx, task: QueryTaskRow) -> None:
    """Put a leased task back to pending for another worker (its holder cannot answer it)."""
    await tx.conn.execute(
        rows.RELEASE,
        {
            "b_query_task_id": task["query_task_id"],
            "b_namespace": task["namespace"],
            "b_lease_owner": task["lease_owner"],
            "b_attempt": task["attempt"],
        },
    )
    tx.wakes.add(poll_key(task["namespace"], task["task_queue"]))


def _plain_result(result: Any, envelope: Any) -> Any:
    """The result as plain JSON: as the worker sent it, else decoded from its envelope."""
    if result is not None or not isinstance(envelope, dict):
        return result
    if "external_storage" in envelope:  # kept in external storage: the caller resolves it
        return None
    try:
        return codec.decode(envelope["blob"], envelope["codec"])
    except Exception:  # an undecodable envelope still reaches the caller, who may read it
        return None


async def answer(
    tx: Tx,
    task: QueryTaskRow,
    *,
    result: Any = None,
    result_envelope: Envelope | None = None,
    failure: QueryFailure | None = None,
) -> None:
    """Record the worker's answer and wake the caller (in whichever process it waits)."""
    values: dict[str, Any] = {"lease_expires_at": None}
    if failure is None:
        values["status"] = QueryTaskStatus.COMPLETED
        values["result"] = {
            "result": _plain_result(result, result_envelope),
            "result_envelope": result_envelope,
        }
    else:
        values["status"] = QueryTaskStatus.FAILED
        values["failure"] = failure
    await tx.conn.execute(rows.UPDATE, {"b_query_task_id": task["query_task_id"], **values})
    tx.wakes.add(result_key(task["namespace"], task["query_task_id"]))


@dataclass(frozen=True)
class Answer:
    """What the caller of a query task learns: a result, a worker's refusal, or nothing in time."""

    status: Literal["completed", "failed", "timed_out"]
    result: Any = None
    result_envelope: Envelope | None = None
    failure: QueryFailure | None = None


def answer_of(task: QueryTaskRow | None) -> Answer | None:
    """The answer a task row holds (``None`` while unanswered)."""
    if task is None:
        return Answer("timed_out")  # purged: its caller's time ran out
    if task["status"] == QueryTaskStatus.COMPLETED:
        stored = task["result"] or {}
        return Answer("completed", stored.get("result"), stored.get("result_envelope"))
    if task["status"] == QueryTaskStatus.FAILED:
        return Answer("failed", failure=cast(QueryFailure, dict(task["failure"] or {})))
    return None


async def purge_expired(open_tx: OpenTx) -> None:
    """Drop query tasks whose caller has stopped waiting (one that crashed, typically)."""
    async for txn in open_tx():
        async with txn as tx:
            await tx.conn.execute(rows.PURGE_EXPIRED, {"b_now": tx.now})
