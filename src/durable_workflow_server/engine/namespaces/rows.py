"""``namespaces`` statements: lookups, the listing, writes, and the namespaces every server starts with.

Row locks (PostgreSQL; SQLite runs one writer at a time, which serialises the same cases): a
transaction that creates a namespace's root rows (a run, a worker registration, ...) first
takes the namespace row ``FOR KEY SHARE`` through :func:`require`; a delete takes it ``FOR
UPDATE``, which waits for those and makes later ones wait, then see the row gone; changing a
namespace's fields takes ``FOR NO KEY UPDATE``, which does not block either. The namespace row
is always the first row such a transaction locks.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import sqlalchemy as sa

from durable_workflow.protocol import errors as reasons

from ...store import tables as t
from ...store.rows import NamespaceRow
from ...store.statuses import NamespaceStatus
from ..errors import DomainError
from ..transaction import Tx

_ns = t.namespaces
EXISTS = sa.select(_ns.c.name).where(_ns.c.name == sa.bindparam("b_name"))
SELECT = sa.select(_ns).where(_ns.c.name == sa.bindparam("b_name"))
_LOCKS = {
    "change": SELECT.with_for_update(key_share=True),  # FOR NO KEY UPDATE
    "delete": SELECT.with_for_update(),  # FOR UPDATE
}
_IN_USE = EXISTS.with_for_update(read=True, key_share=True)  # FOR KEY SHARE
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


def not_found(name: str) -> DomainError:
    return DomainError(reasons.NAMESPACE_NOT_FOUND, f"Namespace '{name}' does not exist.", namespace=name)


async def get(tx: Tx, name: str, *, lock: Literal["change", "delete"] | None = None) -> NamespaceRow | None:
    """The namespace row (locked until commit for a ``change`` or a ``delete``), or ``None``."""
    stmt = _LOCKS[lock] if lock is not None else SELECT
    return cast(NamespaceRow | None, await tx.one(stmt, {"b_name": name}))


def in_use_with(
    *columns: sa.ColumnElement[Any], outer_join: tuple[sa.Table, sa.ColumnElement[bool]] | None = None
) -> sa.Select[Any]:
    """:func:`require`'s read (``b_name``, ``FOR KEY SHARE`` of the namespace row alone) that also
    answers ``columns`` (scalar subqueries another step of the same write needs), one statement.

    ``outer_join``: a table joined to the namespace row (at most one row of it, ``ON`` the
    clause given), for ``columns`` of that row; read, never locked (``OF namespaces``).
    """
    source: sa.FromClause = _ns if outer_join is None else _ns.outerjoin(*outer_join)
    return (
        sa.select(_ns.c.name, *columns)
        .select_from(source)
        .where(_ns.c.name == sa.bindparam("b_name"))
        .with_for_update(read=True, key_share=True, of=_ns)
    )


async def require_with(
    tx: Tx, name: str, statement: sa.Select[Any], params: dict[str, Any]
) -> dict[str, Any]:
    """:func:`require` through an :func:`in_use_with` ``statement``; its row."""
    row = await tx.one(statement, {"b_name": name, **params})
    if row is None:
        raise not_found(name)
    return row


async def require(tx: Tx, name: str) -> None:
    """Refuse (``namespace_not_found``) unless ``name`` exists, and keep it until commit.

    Called first by every transaction that creates a namespace's root rows. The HTTP guard's
    check may be up to ``namespace_cache_seconds`` old, or may have passed just before a delete
    committed; this one, inside the write, is what keeps a racing write from leaving rows in a
    namespace that is gone (where a namespace created later under the same name would find them).
    """
    if await tx.one(_IN_USE, {"b_name": name}) is None:
        raise not_found(name)


async def all_rows(tx: Tx) -> list[NamespaceRow]:
    return cast(list[NamespaceRow], await tx.all(SELECT_ALL))
