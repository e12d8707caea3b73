"""The background retention sweep: prune expired closed runs of every namespace, periodically.

The admin pass (``POST /system/retention/pass``, :mod:`.retention`) prunes on demand; this sweep
runs the same :func:`.retention.prune` from the background loop every
``retention_sweep_interval_seconds`` (``DW_RETENTION_SWEEP_INTERVAL_SECONDS``; off when unset),
so the database holds closed runs for their namespace's retention window and no longer. Each run
is pruned in its own (retried) transaction; a pass takes at most :data:`BATCH` runs per
namespace, and the next pass goes on where this one stopped.

``retention_window_seconds`` (``DW_RETENTION_WINDOW_SECONDS``) replaces every namespace's
``retention_days`` *for this sweep only*: for soak runs and short-lived environments that must
see the database stay bounded within minutes. The admin pass always uses ``retention_days``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ...store import Store
from ...store import tables as t
from ...store.errors import is_transient
from ..transaction import OpenTx
from . import rows
from .retention import prune

log = logging.getLogger(__name__)

BATCH = 200
_NAMESPACE_WINDOWS = sa.select(t.namespaces.c.name, t.namespaces.c.retention_days)


@dataclass
class RetentionSweep:
    """When the sweep runs next, by the engine's clock; :meth:`due_run` runs it when it is due."""

    interval_seconds: float
    window_seconds: float | None = None
    next_at: datetime | None = None

    async def due_run(self, open_tx: OpenTx, store: Store, now: datetime) -> int:
        """Run the sweep if it is due at ``now``; how many runs it pruned."""
        if self.next_at is not None and now < self.next_at:
            return 0
        self.next_at = now + timedelta(seconds=self.interval_seconds)
        return await sweep(open_tx, store, now, window_seconds=self.window_seconds)


async def sweep(open_tx: OpenTx, store: Store, now: datetime, *, window_seconds: float | None) -> int:
    """Prune up to :data:`BATCH` expired closed runs of each namespace; how many were pruned."""
    async with store.read() as conn:
        found_windows = (await conn.execute(_NAMESPACE_WINDOWS)).mappings().all()
        windows = [(str(row["name"]), int(row["retention_days"])) for row in found_windows]
    pruned = 0
    for namespace, days in windows:
        window = timedelta(seconds=window_seconds) if window_seconds is not None else timedelta(days=days)
        cutoff = now - window
        async with store.read() as conn:
            found = await conn.execute(rows.expired_runs(namespace, cutoff, BATCH))
            run_ids = [str(r) for r in found.scalars()]
        for run_id in run_ids:
            try:
                async for txn in open_tx():
                    async with txn as tx:
                        item = await prune(tx, namespace, run_id, cutoff)
            except Exception as exc:
                if is_transient(exc):
                    raise  # the database went away: the loop reports it once and tries again
                log.warning("retention sweep: run %s of %s not pruned (%s)", run_id, namespace, exc)
                continue
            pruned += item["outcome"] == "pruned"
    return pruned
