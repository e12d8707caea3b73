"""Deleting a namespace (control-plane.md §9.1): every row scoped to it, in one transaction.

:data:`NOUNS` is the one list of what a namespace owns, by noun: the key its count is answered
under in ``deleted``, the table whose deleted rows are counted, and the noun's other tables
(deleted too, not counted). Every table with a ``namespace`` column must be in it — a test
(``tests/server/engine/test_engine_namespaces.py``) fails when a new namespace-scoped table is
missing, so a noun that adds a table adds it here.

Each table is reached through an index: a table whose index starts with ``namespace`` by its
namespace, a run's rows by their run (``run_id IN`` the namespace's runs). A plain
``namespace =`` on a run table would scan every tenant's rows, under SQLite's one write lock.
The same test reads the query plans and fails on a full scan.

Lock order: the namespace row (``FOR UPDATE``, by the caller), then the namespace's runs in
``run_id`` order (as every transaction writing a run's rows locks its run first), then the rest,
so a claim or a command racing the delete waits or skips and never deadlocks with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import sqlalchemy as sa

from durable_workflow.protocol.wire import NamespaceDeletedCounts

from ...store import tables as t
from ..external_storage.retention import delete_namespace_payloads
from ..transaction import Tx

Via = Literal["namespace", "run_id", "parent_run_id", "activity_execution_id"]
CountKey = Literal[
    "workflow_runs", "workflow_schedules", "search_attribute_definitions", "workflow_worker_registrations"
]


@dataclass(frozen=True)
class Owned:
    """A table a namespace owns rows of, and the indexed column its rows are found by."""

    table: sa.Table
    via: Via = "namespace"


@dataclass(frozen=True)
class NounTables:
    """What one noun keeps per namespace; tables are deleted in order (dependents first)."""

    key: CountKey  # the key of the answer's ``deleted`` block
    counted: Owned | None  # its deleted rows are the count (None: the noun has no table yet)
    dependents: tuple[Owned, ...] = ()  # rows that belong to the counted ones


NOUNS: tuple[NounTables, ...] = (
    NounTables(
        "workflow_runs",
        Owned(t.workflow_runs),
        (
            Owned(t.history_events, "run_id"),
            Owned(t.workflow_tasks, "run_id"),
            Owned(t.activity_attempts, "activity_execution_id"),  # before their executions
            Owned(t.activity_executions, "run_id"),
            Owned(t.activity_tasks),
            Owned(t.timers, "run_id"),
            Owned(t.signals, "run_id"),
            Owned(t.updates, "run_id"),
            Owned(t.condition_waits, "run_id"),
            Owned(t.child_links, "parent_run_id"),
            Owned(t.query_tasks),
            Owned(t.workflow_instances),
            Owned(t.bridge_outcomes),  # the webhook events that started or reached these runs
            Owned(t.external_payloads),  # (already gone: delete_namespace_payloads, below)
        ),
    ),
    # ---- schedules
    NounTables(
        "workflow_schedules",
        Owned(t.schedules),
        (Owned(t.schedule_fires), Owned(t.schedule_history_events)),
    ),
    # ---- search attributes
    NounTables(
        "search_attribute_definitions",
        Owned(t.search_attribute_definitions),
        (Owned(t.search_attribute_values, "run_id"),),
    ),
    # Build-id cohort intents (drain, promotion) go with the namespace's workers (issue 8: task queues).
    NounTables(
        "workflow_worker_registrations",
        Owned(t.workers),
        (Owned(t.task_queue_build_ids),),
    ),
)

_ns: sa.BindParameter[str] = sa.bindparam("b_namespace")
_runs, _executions = t.workflow_runs, t.activity_executions
_RUN_IDS = (
    sa.select(_runs.c.run_id).where(_runs.c.namespace == _ns).order_by(_runs.c.run_id).with_for_update()
)
_RUNS_OF_NAMESPACE = sa.select(_runs.c.run_id).where(_runs.c.namespace == _ns)
_EXECUTIONS_OF_NAMESPACE = sa.select(_executions.c.activity_execution_id).where(
    _executions.c.run_id.in_(_RUNS_OF_NAMESPACE)
)


def delete_statement(owned: Owned) -> sa.Delete:
    """The DELETE of ``owned``'s rows of one namespace (parameter ``b_namespace``)."""
    table = owned.table
    if owned.via == "namespace":
        return sa.delete(table).where(table.c.namespace == _ns)
    if owned.via == "activity_execution_id":
        return sa.delete(table).where(table.c.activity_execution_id.in_(_EXECUTIONS_OF_NAMESPACE))
    return sa.delete(table).where(table.c[owned.via].in_(_RUNS_OF_NAMESPACE))


def owned_tables() -> list[Owned]:
    """Every table of :data:`NOUNS`, in delete order."""
    return [
        owned
        for noun in NOUNS
        for owned in (*noun.dependents, *((noun.counted,) if noun.counted is not None else ()))
    ]


_DELETES = {owned.table.name: delete_statement(owned) for owned in owned_tables()}


async def delete_namespace_rows(tx: Tx, namespace: str) -> NamespaceDeletedCounts:
    """Delete every row ``namespace`` owns (not the namespace row); answer the counts by noun."""
    params = {"b_namespace": namespace}
    await tx.all(_RUN_IDS, params)  # the lock order: the namespace's runs first
    # Objects the server stored for the runs' payloads go with them (deleted once committed),
    # their rows in one statement whatever the number of runs.
    await delete_namespace_payloads(tx, namespace)
    deleted: dict[str, int] = {}
    for noun in NOUNS:
        for owned in noun.dependents:
            await tx.conn.execute(_DELETES[owned.table.name], params)
        count = 0
        if noun.counted is not None:
            count = (await tx.conn.execute(_DELETES[noun.counted.table.name], params)).rowcount
        deleted[noun.key] = count
    return cast(NamespaceDeletedCounts, deleted)
