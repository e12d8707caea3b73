"""Worker liveness: when a registered worker's silence means it is gone (its leases released)."""

from __future__ import annotations

from datetime import datetime

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
