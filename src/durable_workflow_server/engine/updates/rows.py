"""``updates`` statements."""

from __future__ import annotations

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import UpdateStatus as S

_up = t.updates

INSERT = sa.insert(_up)
UPDATE = sa.update(_up).where(_up.c.update_id == sa.bindparam("b_update_id"))
BY_ID = sa.select(_up).where(_up.c.update_id == sa.bindparam("b_update_id"))
OF_RUN = BY_ID.where(_up.c.run_id == sa.bindparam("b_run_id"))
# The run's accepted updates, oldest first: the first is the one being delivered.
ACCEPTED_OF_RUN = (
    sa.select(_up)
    .where(_up.c.run_id == sa.bindparam("b_run_id"), _up.c.status == S.ACCEPTED)
    .order_by(_up.c.history_sequence, _up.c.update_id)
)
