"""Build-id cohorts of a task queue: drain, resume, promote, the rollout snapshot, and the claim rules.

A cohort is every worker registered on the queue with one build id (``None``: the unversioned
cohort). What an operator decided about a cohort is a ``task_queue_build_ids`` row:

* **drain** — the cohort claims no *new* task of any kind (workflow, activity, query) from the
  moment the drain commits: every claim's candidate query excludes a drained claimer
  (``rows.CLAIMER_NOT_DRAINED``), and a claim's waiting pass checks it again
  (:func:`cohort_draining`), so a poll already waiting when the drain lands gets nothing
  either. Leases it already holds run to their end: completions, failures and heartbeats are
  fenced on the lease, not on the cohort. Its registrations show ``status: draining``, and a
  worker of the cohort registering later lands as ``draining`` too.
* **resume** — the cohort claims again; its registrations go back to ``active`` and the
  queue's waiting polls are woken to look again.
* **promote** — the cohort becomes the one *new runs* of the queue pin to (and is resumed if it
  was drained). A run created after the promotion (a start, a child, a continue-as-new run)
  records the cohort in ``workflow_runs.pinned_build_key``; its workflow tasks and query tasks
  are then claimed only by workers of that build. Runs created before keep what they had
  (unpinned runs stay claimable by any build). Activity tasks are not pinned: an activity is a
  plain function call that any worker registering its type may run.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from ...store.rows import TaskQueueBuildIdRow, WorkerRow
from ...store.statuses import DrainIntent, WorkerStatus
from ..transaction import Tx
from ..util import rfc3339, seconds
from ..workers import rows as worker_rows
from . import rows
from .shapes import BuildIdCohortBody, BuildIdRolloutStateBody


def build_key(build_id: str | None) -> str:
    """The cohort key of a build id: blank or ``None`` is the unversioned cohort (``''``)."""
    if build_id is None or not build_id.strip():
        return ""
    return build_id


def _params(namespace: str, queue: str, key: str) -> dict[str, Any]:
    return {"b_namespace": namespace, "b_queue": queue, "b_build_key": key}


async def cohort_draining(tx: Tx, namespace: str, queue: str, build_id: str | None) -> bool:
    """Whether the claimer's cohort is drained: one primary-key probe, in the caller's transaction.

    The fast pass of a claim needs no probe of its own (its candidate queries carry
    ``rows.CLAIMER_NOT_DRAINED``); the waiting pass, over candidates found earlier in another
    transaction, asks here, so a drain that committed before it is always seen.
    """
    key = build_key(build_id)
    return await tx.one(rows.DRAINING, _params(namespace, queue, key)) is not None


# The cohort new runs of (``b_namespace``, ``b_queue``) pin to, as a column of another read.
PROMOTED_KEY = rows.PROMOTED_OF_QUEUE.scalar_subquery().label("promoted_build_key")
# Whether the cohort ``b_build_key`` of (``b_namespace``, ``b_queue``) is drained, as a column of
# another read (what a claim's candidate query asks, for a start handing its task to a poll).
CLAIMER_DRAINING = rows.DRAINING.exists().label("claimer_draining")


async def pin_for_new_run(tx: Tx, namespace: str, queue: str) -> str | None:
    """The cohort a run created now on ``queue`` pins to: the promoted one, else ``None``."""
    row = await tx.one(rows.PROMOTED_OF_QUEUE, {"b_namespace": namespace, "b_queue": queue})
    return None if row is None else str(row["build_key"])


def may_claim_for(pinned_build_key: str | None, build_id: str | None) -> bool:
    """Whether a worker of ``build_id`` may take the workflow or query task of a run pinned so."""
    return pinned_build_key is None or pinned_build_key == build_key(build_id)


async def registration_status(tx: Tx, namespace: str, queue: str, build_id: str | None) -> str:
    """The status a (re-)registering worker of this cohort gets: ``draining`` while it is drained."""
    drained = await cohort_draining(tx, namespace, queue, build_id)
    return WorkerStatus.DRAINING if drained else WorkerStatus.ACTIVE


# ---------------------------------------------------------------------- drain / resume / promote


def _state(namespace: str, queue: str, row: TaskQueueBuildIdRow) -> BuildIdRolloutStateBody:
    return {
        "namespace": namespace,
        "task_queue": queue,
        "build_id": row["build_id"],
        "drain_intent": row["drain_intent"],
        "drained_at": rfc3339(row["drained_at"]),
        "promoted_at": rfc3339(row["promoted_at"]),
        "new_start_selected": row["promoted_at"] is not None,
    }


async def _locked(tx: Tx, namespace: str, queue: str, key: str) -> TaskQueueBuildIdRow | None:
    """The cohort's row, locked until commit (``None`` while it has none)."""
    row = await tx.one(tx.store.lock(rows.COHORT), _params(namespace, queue, key))
    return cast(TaskQueueBuildIdRow | None, row)


async def _write(
    tx: Tx, namespace: str, queue: str, key: str, current: TaskQueueBuildIdRow | None, **changes: Any
) -> TaskQueueBuildIdRow:
    """Upsert the cohort's row (``current``: as :func:`_locked` read it) with ``changes`` (a
    concurrent first insert fails the transaction with an integrity error; the service retries
    it, and the retry finds the row)."""
    if current is None:
        row: TaskQueueBuildIdRow = {
            "namespace": namespace,
            "task_queue": queue,
            "build_key": key,
            "build_id": key or None,
            "drain_intent": DrainIntent.ACTIVE,
            "drained_at": None,
            "promoted_at": None,
            "created_at": tx.now,
            "updated_at": tx.now,
        }
        row.update(changes)  # type: ignore[typeddict-item]
        await tx.conn.execute(rows.INSERT_COHORT, dict(row))
        return row
    if changes:
        params = _params(namespace, queue, key)
        await tx.conn.execute(rows.UPDATE_COHORT, {**params, **changes, "updated_at": tx.now})
    return cast(TaskQueueBuildIdRow, {**current, **changes})


async def _flip_workers(tx: Tx, namespace: str, queue: str, build_id: str | None, to: str) -> None:
    source = WorkerStatus.ACTIVE if to == WorkerStatus.DRAINING else WorkerStatus.DRAINING
    params = {**_params(namespace, queue, build_key(build_id)), "b_from": source, "b_to": to}
    await tx.conn.execute(worker_rows.SET_COHORT_STATUS, params)


def _wake_queue(tx: Tx, namespace: str, queue: str) -> None:
    for kind in ("workflow", "activity", "query"):
        tx.wakes.add((kind, namespace, queue))


async def drain(tx: Tx, namespace: str, queue: str, build_id: str | None) -> BuildIdRolloutStateBody:
    """Mark the cohort draining (``drained_at`` of the first drain is kept on repeats)."""
    key = build_key(build_id)
    current = await _locked(tx, namespace, queue, key)
    if current is not None and current["drain_intent"] == DrainIntent.DRAINING:
        row = current
    else:
        row = await _write(
            tx, namespace, queue, key, current, drain_intent=DrainIntent.DRAINING, drained_at=tx.now
        )
    await _flip_workers(tx, namespace, queue, build_id, WorkerStatus.DRAINING)
    return _state(namespace, queue, row)


async def resume(tx: Tx, namespace: str, queue: str, build_id: str | None) -> BuildIdRolloutStateBody:
    """Let the cohort claim again; its draining registrations become ``active``."""
    key = build_key(build_id)
    current = await _locked(tx, namespace, queue, key)
    row = await _write(tx, namespace, queue, key, current, drain_intent=DrainIntent.ACTIVE, drained_at=None)
    await _flip_workers(tx, namespace, queue, build_id, WorkerStatus.ACTIVE)
    _wake_queue(tx, namespace, queue)
    return _state(namespace, queue, row)


async def promote(tx: Tx, namespace: str, queue: str, build_id: str | None) -> BuildIdRolloutStateBody:
    """Select the cohort for new runs of the queue (resuming it if drained; the previous
    selection, if any, is cleared). A repeated promote keeps the first ``promoted_at``."""
    key = build_key(build_id)
    current = await _locked(tx, namespace, queue, key)
    promoted_at = current["promoted_at"] if current is not None and current["promoted_at"] else tx.now
    row = await _write(
        tx,
        namespace,
        queue,
        key,
        current,
        drain_intent=DrainIntent.ACTIVE,
        drained_at=None,
        promoted_at=promoted_at,
    )
    await tx.conn.execute(rows.CLEAR_PROMOTION, {**_params(namespace, queue, key), "b_now": tx.now})
    await _flip_workers(tx, namespace, queue, build_id, WorkerStatus.ACTIVE)
    _wake_queue(tx, namespace, queue)
    return _state(namespace, queue, row)


# ---------------------------------------------------------------------- the rollout snapshot

_TIERS = {"active": 0, "active_with_draining": 1, "draining": 2, "stale_only": 3}


def _rollout_status(active: int, draining: int, stale: int) -> str:
    if active and draining:
        return "active_with_draining"
    if active:
        return "active"
    if draining:
        return "draining"
    if stale:
        return "stale_only"
    return "no_workers"


def cohorts(
    workers: Iterable[WorkerRow],
    intents: Iterable[TaskQueueBuildIdRow],
    now: datetime,
    stale_after: float,
) -> list[BuildIdCohortBody]:
    """Every cohort of a queue, from its registrations and recorded intents, in rollout order:
    active, active_with_draining, draining, stale_only, then the rest; named builds before the
    unversioned cohort within a tier; then the most recent heartbeat first."""
    by_key: dict[str, list[WorkerRow]] = {}
    for worker in workers:
        by_key.setdefault(build_key(worker["build_id"]), []).append(worker)
    recorded = {row["build_key"]: row for row in intents}
    promoted = [row for row in recorded.values() if row["promoted_at"] is not None]
    # The latest promotion is the selection (see rows.PROMOTED_OF_QUEUE).
    ordered = sorted(promoted, key=lambda row: row["build_key"])
    selected = max(ordered, key=lambda row: row["promoted_at"] or row["created_at"], default=None)
    answer: list[BuildIdCohortBody] = []
    for key in sorted(set(by_key) | set(recorded)):
        members = by_key.get(key, [])
        intent = recorded.get(key)
        fresh = [w for w in members if w["last_heartbeat_at"] + seconds(stale_after) > now]
        active = sum(1 for w in fresh if w["status"] == WorkerStatus.ACTIVE)
        draining = len(fresh) - active
        stale = len(members) - len(fresh)
        drain_intent = intent["drain_intent"] if intent is not None else DrainIntent.ACTIVE
        last = max((w["last_heartbeat_at"] for w in members), default=None)
        first = min((w["registered_at"] for w in members), default=None)
        if intent is not None and (first is None or intent["created_at"] < first):
            first = intent["created_at"]
        fingerprints = {fp for w in members for fp in (w["workflow_definition_fingerprints"] or {}).values()}
        answer.append(
            {
                "build_id": key or None,
                "rollout_status": _rollout_status(active, draining, stale),
                "drain_intent": drain_intent,
                "drained_at": rfc3339(intent["drained_at"]) if intent is not None else None,
                "promoted_at": rfc3339(intent["promoted_at"]) if intent is not None else None,
                "new_start_selected": selected is not None and intent is selected,
                "active_worker_count": active,
                "draining_worker_count": draining,
                "stale_worker_count": stale,
                "total_worker_count": len(members),
                "runtimes": sorted({w["runtime"] for w in members}),
                "sdk_versions": sorted({w["sdk_version"] for w in members if w["sdk_version"]}),
                "last_heartbeat_at": rfc3339(last),
                "first_seen_at": rfc3339(first),
                "workflow_definition_fingerprint_count": len(fingerprints),
            }
        )

    def order(cohort: BuildIdCohortBody) -> tuple[int, int, float]:
        heartbeat = cohort["last_heartbeat_at"]
        recency = -datetime.fromisoformat(heartbeat.replace("Z", "+00:00")).timestamp() if heartbeat else 0.0
        return (_TIERS.get(cohort["rollout_status"], 4), cohort["build_id"] is None, recency)

    return sorted(answer, key=order)
