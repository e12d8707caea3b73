"""``GET /workflows``: runs of a namespace, newest first, filtered, in keyset pages.

Order is ``(started_at, run_id)`` descending, the order of the index
``ix_workflow_runs_namespace_started`` (and of the per-type and per-queue indexes), and a page
token is the position of the last row returned: the next page starts strictly after it with an
index range scan, never an ``OFFSET`` that re-reads every earlier row. Rows started meanwhile
(newer than the first page) do not shift later pages, so pages are disjoint and complete.

A status filter (``status=failed`` is three statuses) reads
``ix_workflow_runs_status_namespace_started`` once per status, each branch a keyset range of at
most a page of keys, and reads the newest page of their union: no database merges several ranges of one
index in order, so a single ``status IN (...)`` would instead walk the namespace's started index
and read every run's row to test its status (thousands of rows a page for a rare status).

Tokens are opaque to clients (SDK 0.4.84 passes them back as is). A token this server did not
issue (garbage, or the decimal offsets of older servers) reads as the first page, as the
reference server treats invalid tokens.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, cast

import sqlalchemy as sa

from ...store import tables as t
from ...store.rows import RunRow
from ..errors import ValidationFailed
from ..runs import views
from ..shapes import ListWorkflowsResponse
from ..transaction import Tx
from . import rows
from .filters import compile_query, names_in, time_window
from .query import QueryError, is_language, parse
from .types import SYSTEM_ATTRIBUTES

_wr = t.workflow_runs
_TOKEN_PREFIX = "k1."
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class ListFilter:
    """What ``GET /workflows`` narrows by (every field optional; all of them must hold)."""

    workflow_type: str | None = None
    statuses: frozenset[str] | None = None
    task_queue: str | None = None
    query: str | None = None
    started_after: datetime | None = None
    started_before: datetime | None = None
    closed_after: datetime | None = None
    closed_before: datetime | None = None


def encode_position(started_at: datetime, run_id: str) -> str:
    """``k1.<started_at in microseconds since the epoch>.<run_id>``: URL-safe as it is."""
    delta = started_at.astimezone(timezone.utc) - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{_TOKEN_PREFIX}{micros}.{run_id}"


def decode_position(token: str | None) -> tuple[datetime, str] | None:
    """The ``(started_at, run_id)`` a token names, or ``None`` (first page) for any other text."""
    if not token or not token.startswith(_TOKEN_PREFIX):
        return None
    micros, _, run_id = token[len(_TOKEN_PREFIX) :].partition(".")
    if not micros.isascii() or not micros.isdigit() or len(micros) > 18 or not run_id:
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(micros)), run_id
    except OverflowError:  # 18 digits reach past year 9999
        return None


async def _conditions(tx: Tx, namespace: str, where: ListFilter) -> list[Any]:
    # The status filter is not among them: :func:`statement` applies it, one branch per status.
    conditions: list[Any] = [_wr.c.namespace == namespace]
    if where.workflow_type:
        conditions.append(_wr.c.workflow_type == where.workflow_type)
    if where.task_queue:
        conditions.append(_wr.c.task_queue == where.task_queue)
    conditions += time_window(_wr.c.started_at, where.started_after, where.started_before)
    conditions += time_window(_wr.c.closed_at, where.closed_after, where.closed_before)
    if where.query:
        conditions.append(await _query_condition(tx, namespace, where.query))
    return conditions


async def _query_condition(tx: Tx, namespace: str, text: str) -> Any:
    """The condition of a ``query``: the visibility language, or an id / business-key substring."""
    try:
        node = parse(text)
    except QueryError as exc:
        if is_language(text):
            raise ValidationFailed({"query": [str(exc)]}) from exc
        # No operator at all and not a query: the reference server's substring match.
        return sa.or_(
            _wr.c.workflow_id.contains(text, autoescape=True),
            _wr.c.business_key.contains(text, autoescape=True),
        )
    custom = [name for name in names_in(node) if name not in SYSTEM_ATTRIBUTES]
    types = await rows.registered_types(tx, namespace, custom)
    try:
        return compile_query(node, namespace, types)
    except QueryError as exc:
        raise ValidationFailed({"query": [str(exc)]}) from exc


def statement(
    conditions: Iterable[Any],
    after: tuple[datetime, str] | None,
    limit: int,
    *,
    statuses: Collection[str] | None = None,
) -> sa.Select[Any]:
    """The page's ``SELECT``: keyset after ``after``, newest first, ``limit`` rows.

    ``statuses``: only runs in one of these; each status is its own newest-first branch of at
    most ``limit`` keys (an index range each), and the page is the newest ``limit`` runs of
    them all. An empty collection matches nothing.
    """
    where = list(conditions)
    if after is not None:
        moment, run_id = after
        where.append(
            sa.tuple_(_wr.c.started_at, _wr.c.run_id)
            < sa.tuple_(sa.literal(moment, _wr.c.started_at.type), sa.literal(run_id, _wr.c.run_id.type))
        )
    if statuses is not None and not statuses:
        where.append(sa.false())
    elif statuses is not None and len(statuses) == 1:
        where.append(_wr.c.status == next(iter(statuses)))
    elif statuses is not None:
        # The branches select only the keys: a subquery of every run column costs more Python to
        # build than the query takes to run, and the keys come from the status index alone.
        # Each branch is wrapped in its own SELECT (SQLite refuses ORDER BY / LIMIT on a bare
        # member); the page's rows are then read by primary key.
        keys = sa.select(_wr.c.started_at, _wr.c.run_id).where(*where)
        branches = [
            sa.select(_newest(keys.where(_wr.c.status == status), limit).subquery())
            for status in sorted(statuses)
        ]
        page = sa.union_all(*branches).subquery("page")
        return _newest(sa.select(_wr).join(page, page.c.run_id == _wr.c.run_id), limit)
    return _newest(sa.select(_wr).where(*where), limit)


def _newest(stmt: sa.Select[Any], limit: int) -> sa.Select[Any]:
    return stmt.order_by(_wr.c.started_at.desc(), _wr.c.run_id.desc()).limit(limit)


async def count_by_status(
    tx: Tx, namespace: str, where: ListFilter, *, statuses: Collection[str], cap: int | None = None
) -> dict[str, int]:
    """How many runs of each of ``statuses`` match ``where`` (its own ``statuses`` aside), in one
    statement: a ``GROUP BY status``; with ``cap``, a ``UNION ALL`` of one count per status
    that stops after ``cap + 1`` runs (an index range of the status index each), so a count of
    ``cap + 1`` means "more than ``cap``" and the read stays bounded however many runs match."""
    if not statuses:
        return {}
    stmt = count_statement(await _conditions(tx, namespace, where), statuses, cap)
    return {str(row["status"]): int(row["runs"]) for row in await tx.all(stmt)}


def count_statement(conditions: Iterable[Any], statuses: Collection[str], cap: int | None) -> Any:
    """The statement of :func:`count_by_status`: rows ``(status, runs)``."""
    where, wanted = list(conditions), sorted(statuses)
    if cap is None:
        return (
            sa.select(_wr.c.status, sa.func.count().label("runs"))
            .where(*where, _wr.c.status.in_(wanted))
            .group_by(_wr.c.status)
        )
    branches = [
        sa.select(sa.literal(status).label("status"), sa.func.count().label("runs")).select_from(
            sa.select(_wr.c.run_id).where(*where, _wr.c.status == status).limit(cap + 1).subquery()
        )
        for status in wanted
    ]
    return sa.union_all(*branches)


async def list_page(
    tx: Tx, namespace: str, where: ListFilter, *, page_size: int, next_page_token: str | None
) -> ListWorkflowsResponse:
    """One page of runs, and the token of the next page when there are more."""
    conditions = await _conditions(tx, namespace, where)
    found = cast(
        list[RunRow],
        await tx.all(
            statement(conditions, decode_position(next_page_token), page_size + 1, statuses=where.statuses)
        ),
    )
    more = len(found) > page_size
    found = found[:page_size]
    last = found[-1] if found else None
    return {
        "workflows": [views.list_row(r) for r in found],
        "workflow_count": len(found),
        "next_page_token": encode_position(last["started_at"], last["run_id"]) if more and last else None,
    }
