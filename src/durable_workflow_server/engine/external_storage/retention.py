"""What retention asks of external payload storage: delete the stored objects of a pruned run.

The retention pass (``maintenance/``) and namespace deletion call :func:`delete_run_payloads`
inside the transaction that deletes the run's rows; the external-storage noun owns the table and
the drivers.
"""

from __future__ import annotations

import logging

from ..transaction import Tx
from . import rows
from .drivers import DriverUnavailable
from .storage import WrittenObject

log = logging.getLogger(__name__)


async def delete_run_payloads(tx: Tx, namespace: str, run_id: str) -> int:
    """Delete every object the server stored for ``run_id``; answer how many were deleted.

    The run's ``external_payloads`` rows go in ``tx``. An object another run still refers to (a
    child's output in its parent's history, an input a continued run carries) is kept for that
    run. The objects themselves are deleted once ``tx`` has committed, so a pass that rolls back
    leaves every object its rows still name.

    An object is left in place (and logged) when the namespace no longer has a driver that can
    reach it (the policy was removed or names a driver this server cannot build).
    """
    found = [row for row in await rows.of_run(tx, run_id) if row["namespace"] == namespace]
    if not found:
        return 0
    await tx.conn.execute(rows.DELETE_OF_RUN, {"b_run_id": run_id})
    uris = sorted({row["uri"] for row in found})
    still = {
        row["uri"] for row in await tx.all(rows.STILL_REFERRED, {"b_namespace": namespace, "b_uris": uris})
    }
    return await _delete_after_commit(tx, namespace, [uri for uri in uris if uri not in still])


async def delete_namespace_payloads(tx: Tx, namespace: str) -> int:
    """Delete every object the server stored for ``namespace`` (deleting the namespace).

    One statement for the rows, however many runs: no other namespace refers to these objects.
    """
    uris = sorted({row["uri"] for row in await tx.all(rows.URIS_OF_NAMESPACE, {"b_namespace": namespace})})
    if not uris:
        return 0
    await tx.conn.execute(rows.DELETE_OF_NAMESPACE, {"b_namespace": namespace})
    return await _delete_after_commit(tx, namespace, uris)


async def _delete_after_commit(tx: Tx, namespace: str, doomed: list[str]) -> int:
    if not doomed:
        return 0
    payloads = tx.payloads
    policy = await payloads.policy(tx, namespace) if payloads is not None else None
    if payloads is None or policy is None:
        log.warning(
            "namespace %s has no external storage policy: %d object(s) left in place", namespace, len(doomed)
        )
        return 0
    try:
        driver = payloads.driver(namespace, policy)
    except DriverUnavailable as exc:
        log.warning("namespace %s: %d external payload(s) left in place: %s", namespace, len(doomed), exc)
        return 0
    tx.deferred_deletions.extend(WrittenObject(driver, uri) for uri in doomed)
    return len(doomed)
