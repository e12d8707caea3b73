"""``namespaces`` statements: the existence check and the namespaces every server starts with."""

from __future__ import annotations

import sqlalchemy as sa

from ...store import tables as t
from ...store.statuses import NamespaceStatus
from ..transaction import Tx

_ns = t.namespaces
EXISTS = sa.select(_ns.c.name).where(_ns.c.name == sa.bindparam("b_name"))
INSERT = sa.insert(_ns)


async def ensure(tx: Tx, names: set[str]) -> None:
    """Create each of ``names`` that does not exist yet."""
    for name in names:
        if await tx.one(EXISTS, {"b_name": name}) is None:
            tx.namespaces_changed = True
            await tx.conn.execute(
                INSERT,
                {
                    "name": name,
                    "description": "Default namespace",
                    "retention_days": 30,
                    "status": NamespaceStatus.ACTIVE,
                    "created_at": tx.now,
                    "updated_at": tx.now,
                },
            )
