"""``namespaces`` statements: lookups, the listing, writes, and the namespaces every server starts with."""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa

from ...store import tables as t
from ...store.rows import NamespaceRow
from ...store.statuses import NamespaceStatus
from ..transaction import Tx

_ns = t.namespaces
EXISTS = sa.select(_ns.c.name).where(_ns.c.name == sa.bindparam("b_name"))
SELECT = sa.select(_ns).where(_ns.c.name == sa.bindparam("b_name"))
# Oldest first (the order they were created in), the name breaking ties between equal clocks.
SELECT_ALL = sa.select(_ns).order_by(_ns.c.created_at, _ns.c.name)
INSERT = sa.insert(_ns)
UPDATE = sa.update(_ns).where(_ns.c.name == sa.bindparam("b_name"))
DELETE = sa.delete(_ns).where(_ns.c.name == sa.bindparam("b_name"))

DEFAULT_DESCRIPTION = "Default namespace"
DEFAULT_RETENTION_DAYS = 30


async def ensure(tx: Tx, names: set[str]) -> None:
    """Create each of ``names`` that does not exist yet."""
    for name in names:
        if await tx.one(EXISTS, {"b_name": name}) is None:
            tx.namespaces_changed = True
            await tx.conn.execute(
                INSERT,
                {
                    "name": name,
                    "description": DEFAULT_DESCRIPTION,
                    "retention_days": DEFAULT_RETENTION_DAYS,
                    "status": NamespaceStatus.ACTIVE,
                    "created_at": tx.now,
                    "updated_at": tx.now,
                },
            )


async def get(tx: Tx, name: str, *, lock: bool = False) -> NamespaceRow | None:
    """The namespace row (locked until commit with ``lock``), or ``None``."""
    stmt = tx.store.lock(SELECT) if lock else SELECT
    return cast(NamespaceRow | None, await tx.one(stmt, {"b_name": name}))


async def all_rows(tx: Tx) -> list[NamespaceRow]:
    return cast(list[NamespaceRow], await tx.all(SELECT_ALL))
