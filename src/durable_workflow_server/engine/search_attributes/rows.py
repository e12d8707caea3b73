"""``search_attribute_definitions`` and ``search_attribute_values`` statements."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from ...store import tables as t
from ..transaction import Tx
from .values import IndexItem, index_items

_defs, _vals = t.search_attribute_definitions, t.search_attribute_values

DEFINITIONS = (
    sa.select(_defs.c.name, _defs.c.attribute_type)
    .where(_defs.c.namespace == sa.bindparam("b_namespace"))
    .order_by(_defs.c.name)
)
DEFINITIONS_NAMED = sa.select(_defs.c.name, _defs.c.attribute_type).where(
    _defs.c.namespace == sa.bindparam("b_namespace"),
    _defs.c.name.in_(sa.bindparam("b_names", expanding=True)),
)
DEFINITION = sa.select(_defs).where(
    _defs.c.namespace == sa.bindparam("b_namespace"), _defs.c.name == sa.bindparam("b_name")
)
COUNT = (
    sa.select(sa.func.count().label("n"))
    .select_from(_defs)
    .where(_defs.c.namespace == sa.bindparam("b_namespace"))
)
INSERT_DEFINITION = sa.insert(_defs)
DELETE_DEFINITION = sa.delete(_defs).where(
    _defs.c.namespace == sa.bindparam("b_namespace"), _defs.c.name == sa.bindparam("b_name")
)
INSERT_VALUES = sa.insert(_vals)
DELETE_VALUES_OF_RUN = sa.delete(_vals).where(_vals.c.run_id == sa.bindparam("b_run_id"))


async def registered_types(tx: Tx, namespace: str, names: Iterable[str]) -> dict[str, str]:
    """The registered type of each of ``names`` that is registered in ``namespace``."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    found = await tx.all(DEFINITIONS_NAMED, {"b_namespace": namespace, "b_names": wanted})
    return {row["name"]: row["attribute_type"] for row in found}


def _row(run_id: str, namespace: str, name: str, item: IndexItem) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "name": name,
        "ordinal": item.ordinal,
        "namespace": namespace,
        "value_keyword": item.keyword,
        "value_int": item.integer,
        "value_double": item.double,
        "value_bool": item.boolean,
        "value_datetime": item.moment,
    }


async def write_values(
    tx: Tx,
    run_id: str,
    namespace: str,
    attributes: Mapping[str, Any],
    *,
    replace: bool,
    types: Mapping[str, str] | None = None,
) -> None:
    """Make the run's index rows those of ``attributes`` (``replace``: it had rows before).

    Called wherever a run's ``search_attributes`` is written, in the same transaction, so a list
    filter never sees values the run does not show. ``types``: the registered types of the
    names, when the caller read them already in this transaction (else they are read here).
    """
    if replace:
        await tx.conn.execute(DELETE_VALUES_OF_RUN, {"b_run_id": run_id})
    present = {name: value for name, value in attributes.items() if value is not None}
    if not present:
        return
    if types is None:
        types = await registered_types(tx, namespace, present)
    rows = [
        _row(run_id, namespace, name, item)
        for name, value in present.items()
        for item in index_items(name, value, types.get(name))
    ]
    if rows:
        await tx.conn.execute(INSERT_VALUES, rows)
