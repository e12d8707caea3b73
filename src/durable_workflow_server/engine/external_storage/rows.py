"""``external_payloads`` statements: which runs refer to which stored objects.

A row is written for the run that stored an object (:mod:`.offloading`) and for every other run
whose history comes to refer to it (:func:`record_history`, called by ``history.rows.append``):
a child's output copied into its parent's ``ChildRunCompleted``, an input carried into a
continued run. Retention deletes a run's rows and an object with its last row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa

from durable_workflow.protocol.payload_storage import ExternalPayloadReference

from ...store import tables as t
from ...store.rows import ExternalPayloadRow
from ..transaction import Tx
from ..util import new_id
from .stored import references_in

_ep = t.external_payloads
INSERT = sa.insert(_ep)
OF_RUN = sa.select(_ep).where(_ep.c.run_id == sa.bindparam("b_run_id")).order_by(_ep.c.created_at, _ep.c.id)
URIS_OF_RUN = sa.select(_ep.c.uri).where(_ep.c.run_id == sa.bindparam("b_run_id"))
DELETE_OF_RUN = sa.delete(_ep).where(_ep.c.run_id == sa.bindparam("b_run_id"))
URIS_OF_NAMESPACE = sa.select(_ep.c.uri).where(_ep.c.namespace == sa.bindparam("b_namespace"))
DELETE_OF_NAMESPACE = sa.delete(_ep).where(_ep.c.namespace == sa.bindparam("b_namespace"))
# Of the given objects, those some row (of another run, once the run's own rows are gone) still
# refers to.
STILL_REFERRED = (
    sa.select(_ep.c.uri)
    .where(
        _ep.c.namespace == sa.bindparam("b_namespace"), _ep.c.uri.in_(sa.bindparam("b_uris", expanding=True))
    )
    .distinct()
)


async def record(tx: Tx, namespace: str, run_id: str, references: Sequence[ExternalPayloadReference]) -> None:
    """Note that ``run_id`` refers to each of ``references`` (once per object)."""
    if not references:
        return
    known = {row["uri"] for row in await tx.all(URIS_OF_RUN, {"b_run_id": run_id})}
    fresh: dict[str, ExternalPayloadReference] = {}
    for reference in references:
        if reference.uri not in known:
            fresh.setdefault(reference.uri, reference)
    if not fresh:
        return
    await tx.conn.execute(
        INSERT,
        [
            {
                "id": new_id(),
                "namespace": namespace,
                "run_id": run_id,
                "uri": reference.uri,
                "sha256": reference.sha256,
                "size_bytes": reference.size_bytes,
                "codec": reference.codec,
                "created_at": tx.now,
            }
            for reference in fresh.values()
        ],
    )


async def record_history(tx: Tx, namespace: str, run_id: str, payloads: Iterable[Mapping[str, Any]]) -> None:
    """Record the stored objects a batch of appended event payloads refers to."""
    found = [reference for payload in payloads for reference in references_in(payload)]
    if found:
        await record(tx, namespace, run_id, found)


async def of_run(tx: Tx, run_id: str) -> list[ExternalPayloadRow]:
    return cast(list[ExternalPayloadRow], await tx.all(OF_RUN, {"b_run_id": run_id}))
