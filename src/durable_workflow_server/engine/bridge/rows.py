"""``bridge_outcomes`` statements: claim a key, record its first outcome, or give the claim back."""

from __future__ import annotations

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import BridgeOutcomeStatus

_b = t.bridge_outcomes
_KEY = (
    _b.c.namespace == sa.bindparam("b_namespace"),
    _b.c.adapter == sa.bindparam("b_adapter"),
    _b.c.idempotency_key == sa.bindparam("b_key"),
)

OUTCOME = sa.select(_b).where(*_KEY)
CLAIM = sa.insert(_b)
# A claim a crashed server left behind, taken over once it is older than the stale time.
TAKE_OVER = (
    sa.update(_b)
    .where(
        *_KEY, _b.c.status == BridgeOutcomeStatus.PENDING, _b.c.claimed_at < sa.bindparam("b_stale_before")
    )
    .values(claimed_at=sa.bindparam("b_now"))
)
FINISH = sa.update(_b).where(*_KEY, _b.c.status == BridgeOutcomeStatus.PENDING)
RELEASE = sa.delete(_b).where(*_KEY, _b.c.status == BridgeOutcomeStatus.PENDING)
