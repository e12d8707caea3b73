"""What retention asks of external payload storage: delete the stored objects of a pruned run.

The retention pass (``maintenance/``) calls :func:`delete_run_payloads` inside the transaction
that deletes the run's rows; the external-storage noun owns the table and the drivers.
"""

from __future__ import annotations

from ..transaction import Tx


async def delete_run_payloads(tx: Tx, namespace: str, run_id: str) -> int:
    """Delete every object the server stored for ``run_id``; answer how many were deleted.

    Until server-side offloading lands (issue 8, external storage) the server stores no object,
    so there is nothing to delete.
    """
    del tx, namespace, run_id
    return 0
