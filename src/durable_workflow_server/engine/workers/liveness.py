"""Worker liveness: when a registered worker's silence means it is gone (its leases released)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..transaction import Tx
from ..util import seconds


def silence_cutoff(now: datetime, liveness: float, observed_since: datetime | None) -> datetime | None:
    """Registered workers last heard from at or before this moment are gone.

    ``None`` while this process has not yet seen the database for a whole window
    (``observed_since``): a silence that began while it could not see it may be its own outage,
    not the workers'.
    """
    cutoff = now - seconds(liveness)
    if observed_since is not None and observed_since > cutoff:
        return None
    return cutoff


async def silent_leases(
    tx: Tx, statement: Any, liveness: float, observed_since: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """The leased tasks (``statement``: a kind's ``SILENT_LEASES``, claimed) of silent workers.

    At most ``limit``, so one pass stays bounded; none while :func:`silence_cutoff` says this
    process cannot tell yet.
    """
    cutoff = silence_cutoff(tx.now, liveness, observed_since)
    if cutoff is None:
        return []
    return await tx.all(tx.store.claim(statement), {"b_cutoff": cutoff, "b_limit": limit})


def stale_before(now: datetime, grace: float | None) -> datetime:
    """Leases last granted or renewed at or before this moment are not fresh (:func:`fresh_lease`).

    Without ``grace`` none is fresh: a moment far enough ahead that every lease is before it.
    """
    if grace is None:
        return now + seconds(NO_GRACE_AHEAD_SECONDS)
    # Bounded, so any number a request carries is a valid time span.
    return now - seconds(min(max(float(grace), 0.0), 3600.0))


# Ahead of any clock a lease's ``updated_at`` was written with (servers' clocks disagree by far less).
NO_GRACE_AHEAD_SECONDS = 10 * 365 * 86400


def fresh_lease(task: Mapping[str, Any], now: datetime, grace: float | None) -> bool:
    """The task's lease was granted (or renewed) less than ``grace`` seconds before ``now``.

    A worker that takes tasks eagerly (docs/protocol.md, "Fewer round trips") may poll before the
    answer that hands it a task arrives, naming held tasks that do not include it yet: with
    ``hand_back_grace_seconds`` on its polls, such a fresh lease is not handed back.
    """
    return bool(task["updated_at"] > stale_before(now, grace))
