"""Deleting a namespace (control-plane.md §9.1): every row scoped to it, in one transaction.

:data:`NOUNS` is the one list of what a namespace owns, by noun: the key its count is answered
under in ``deleted``, the table whose deleted rows are counted, and the noun's other tables
(deleted too, not counted). Every table with a ``namespace`` column must be in it — a test
(``tests/server/engine/test_engine_namespaces.py``) fails when a new namespace-scoped table is
missing, so a noun that adds a table adds it here.

Lock order: the namespace's runs are locked first (as every transaction writing a run's rows
does), then the rest is deleted, so a claim racing the delete skips the locked runs and never
deadlocks with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ...store import tables as t
from ..external_storage.retention import delete_run_payloads
from ..transaction import Tx


@dataclass(frozen=True)
class NounTables:
    """What one noun keeps per namespace."""

    key: str  # the key of the answer's ``deleted`` block
    counted: sa.Table | None  # its deleted rows are the count (None: the noun has no table yet)
    dependents: tuple[sa.Table, ...] = ()  # rows that belong to the counted ones


NOUNS: tuple[NounTables, ...] = (
    NounTables(
        "workflow_runs",
        t.workflow_runs,
        (
            t.history_events,
            t.workflow_tasks,
            t.activity_executions,
            t.activity_tasks,
            t.activity_attempts,
            t.timers,
            t.signals,
            t.updates,
            t.condition_waits,
            t.child_links,
            t.query_tasks,
            t.workflow_instances,
            t.bridge_outcomes,  # the webhook events that started or reached these runs
        ),
    ),
    # ---- issue 8: schedules (their tables go here)
    NounTables("workflow_schedules", None),
    # ---- issue 8: search attributes (their tables go here)
    NounTables("search_attribute_definitions", t.search_attribute_definitions, (t.search_attribute_values,)),
    # Build-id cohort intents (drain, promotion) go with the namespace's workers (issue 8: task queues).
    NounTables("workflow_worker_registrations", t.workers, (t.poll_requests, t.task_queue_build_ids)),
)

_runs = t.workflow_runs
_RUN_IDS = sa.select(_runs.c.run_id).where(_runs.c.namespace == sa.bindparam("b_namespace"))


def _delete(table: sa.Table) -> sa.Delete:
    return sa.delete(table).where(table.c.namespace == sa.bindparam("b_namespace"))


_DELETES = {
    table.name: _delete(table)
    for noun in NOUNS
    for table in (*noun.dependents, *((noun.counted,) if noun.counted is not None else ()))
}


async def delete_namespace_rows(tx: Tx, namespace: str) -> dict[str, int]:
    """Delete every row ``namespace`` owns (not the namespace row); answer the counts by noun."""
    params = {"b_namespace": namespace}
    run_ids = [row["run_id"] for row in await tx.all(tx.store.lock(_RUN_IDS), params)]
    for run_id in run_ids:
        # Objects the server stored for a run's payloads go with it (as retention does).
        await delete_run_payloads(tx, namespace, run_id)
    deleted: dict[str, int] = {}
    for noun in NOUNS:
        for table in noun.dependents:
            await tx.conn.execute(_DELETES[table.name], params)
        count = 0
        if noun.counted is not None:
            count = (await tx.conn.execute(_DELETES[noun.counted.name], params)).rowcount
        deleted[noun.key] = count
    return deleted
