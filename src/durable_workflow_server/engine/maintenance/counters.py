"""The server's Prometheus samples: process counters, and queue depth counted at scrape time.

Two sources, kept apart on purpose:

* :class:`ProcessCounters`: counted by *this process* as it works (HTTP requests by the HTTP
  layer, lease expiries where the background loop expires leases, schedule fires where a fire's
  outcome is recorded). They start at zero when the
  process starts and are not shared: with several server processes on one database, each one's
  ``/metrics`` counts its own share, and the scraper sums them.
* Database facts, computed when scraped with indexed ``GROUP BY`` queries (the same answer from
  every process): ready tasks per namespace, task queue and kind.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, TypedDict

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import ActivityTaskStatus, QueryTaskStatus, WorkflowTaskStatus
from ..transaction import Tx

Labels = tuple[tuple[str, str], ...]

REQUESTS = "durable_workflow_server_requests_total"
LEASE_EXPIRIES = "durable_workflow_server_lease_expiries_total"
# Leases handed back because their worker is gone: ``reason`` is ``liveness`` (a registered
# worker went silent), ``stopping`` (its stop notice) or ``repoll`` (a re-poll did not hold it).
WORKER_LEASE_RELEASES = "durable_workflow_server_worker_lease_releases_total"
QUEUE_DEPTH = "durable_workflow_server_task_queue_depth"
SCHEDULE_FIRES = "durable_workflow_server_schedule_fires_total"
TRANSACTION_RETRIES = "durable_workflow_server_transaction_retries_total"
# Every SQL statement this process's store executed (requests, the background loop, scrapes).
SQL_STATEMENTS = "durable_workflow_server_sql_statements_total"


class Sample(TypedDict):
    """One value of one metric with its labels."""

    name: str
    labels: dict[str, str]
    value: float


class ProcessCounters:
    """Monotonic counters of this process (thread-safe; the HTTP layer and the loop both count)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, Labels], float] = {}

    def inc(self, name: str, labels: Mapping[str, str], value: float = 1.0) -> None:
        if value <= 0:
            return
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + value

    def inc_key(self, key: tuple[str, Labels]) -> None:
        """Add one to the counter ``key``: a metric name with its labels already sorted by name
        (what :meth:`inc` builds), for a caller that counts the same few keys over and over."""
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + 1.0

    def samples(self) -> list[Sample]:
        with self._lock:
            items = sorted(self._values.items())
        return [{"name": name, "labels": dict(labels), "value": value} for (name, labels), value in items]


_wt, _at, _qt = t.workflow_tasks, t.activity_tasks, t.query_tasks
# Ready tasks by namespace and queue: each a GROUP BY over the leading columns of the queue index.
_DEPTH: tuple[tuple[str, Any], ...] = (
    ("workflow", sa.select(_wt.c.namespace, _wt.c.task_queue, sa.func.count())
     .where(_wt.c.status == WorkflowTaskStatus.READY).group_by(_wt.c.namespace, _wt.c.task_queue)),
    ("activity", sa.select(_at.c.namespace, _at.c.task_queue, sa.func.count())
     .where(_at.c.status == ActivityTaskStatus.READY).group_by(_at.c.namespace, _at.c.task_queue)),
    ("query", sa.select(_qt.c.namespace, _qt.c.task_queue, sa.func.count())
     .where(_qt.c.status == QueryTaskStatus.PENDING).group_by(_qt.c.namespace, _qt.c.task_queue)),
)  # fmt: skip


async def queue_depth(tx: Tx) -> list[Sample]:
    """Ready (claimable or held-back) tasks per namespace, task queue and kind, now."""
    found: list[Sample] = []
    for kind, statement in _DEPTH:
        rows: list[Any] = list((await tx.conn.execute(statement)).all())
        for namespace, queue, count in rows:
            labels = {"namespace": str(namespace), "task_queue": str(queue), "kind": kind}
            found.append({"name": QUEUE_DEPTH, "labels": labels, "value": float(count)})
    return found


class ServerMetricsSnapshot(TypedDict):
    """What ``GET /metrics`` renders: this process's counters and the database's queue depth."""

    counters: list[Sample]
    gauges: list[Sample]
