"""What ``runs.lifecycle.close_run`` does for children: a notice to the parent, parent-close policy.

Both are called from ``close_run`` (the one place every close goes through), inside the closing
transaction, which holds the closing run's lock. The lock rule is *parent before child*:

* a parent that closes locks its children's current runs after its own (:func:`parent_closed`);
* a child that closes never locks its parent: it inserts a due ``child_closed`` timer on the
  parent run (:func:`child_closed`, an insert that waits for no lock), and the background loop
  fires it in a later transaction that locks the parent first (``children.resolution``).

So no two transactions ever take a parent and a child lock in opposite orders.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Literal, Protocol, cast

from durable_workflow.protocol.history import EventType

from ...store.rows import ChildLinkRow, RunRow
from ...store.statuses import ChildLinkStatus, RunStatus, TimerStatus
from ..history.rows import append
from ..runs.rows import CURRENT_RUN_LOCKING, is_terminal_run, load_run
from ..timers import rows as timer_rows
from ..transaction import Tx
from ..util import new_id
from . import rows

# What the parent's step becomes when the child run ends with each status.
LINK_STATUS_OF_RUN = {
    RunStatus.COMPLETED: ChildLinkStatus.COMPLETED,
    RunStatus.FAILED: ChildLinkStatus.FAILED,
    RunStatus.CANCELLED: ChildLinkStatus.CANCELLED,
    RunStatus.TERMINATED: ChildLinkStatus.TERMINATED,
}
Kind = Literal["cancel", "terminate"]
_POLICY_EFFECT = {"request_cancel": RunStatus.CANCELLED, "terminate": RunStatus.TERMINATED}


class CloseRun(Protocol):
    """``runs.lifecycle.close_run`` (passed in: that module imports this one)."""

    def __call__(self, tx: Tx, run: RunRow, *, status: str, closed_reason: str) -> Awaitable[None]: ...


async def child_closed(tx: Tx, run: RunRow) -> None:
    """A child run closed: leave its parent a due notice, unless the parent closed the link itself."""
    link = await rows.load_link(tx, str(run["parent_link_id"]), lock=False)
    if link is None or link["status"] != ChildLinkStatus.OPEN:
        return
    await tx.conn.execute(
        timer_rows.INSERT,
        {
            "timer_id": new_id(),
            "run_id": link["parent_run_id"],
            "namespace": link["namespace"],
            "sequence": link["sequence"],
            "batch_id": link["batch_id"],
            "delay_seconds": 0,
            "fire_at": tx.now,
            "status": TimerStatus.PENDING,
            "created_at": tx.now,
            "timer_kind": rows.TIMER_CHILD_CLOSED,
            "target_id": link["link_id"],
        },
    )
    tx.timers_changed = True


async def current_child_run(tx: Tx, link: ChildLinkRow) -> RunRow | None:
    """The child's latest run for this link (locked): retries and continue-as-new move it on."""
    params = {"b_workflow_id": link["child_workflow_id"]}
    current = cast(RunRow | None, await tx.one(tx.store.lock(CURRENT_RUN_LOCKING), params))
    # Locking waited for a child that was continuing as new: the instance has moved on since the
    # statement chose the run, so ask again (the new run is committed by now).
    while current is not None and current["closed_reason"] == "continued":
        moved = cast(RunRow | None, await tx.one(tx.store.lock(CURRENT_RUN_LOCKING), params))
        if moved is None or moved["run_id"] == current["run_id"]:
            break
        current = moved
    if current is not None and current["parent_link_id"] == link["link_id"]:
        return current
    return await load_run(tx, str(link["child_run_id"])) if link["child_run_id"] else None


async def close_child(tx: Tx, child: RunRow, status: str, reason: str, close: CloseRun) -> None:
    """Cancel or terminate ``child`` (locked) at once, exactly as the cancel / terminate commands do."""
    # Imported here: ``cancellation`` imports ``runs.lifecycle``, which imports this module.
    from ..cancellation import EXCEPTION_CLASS, message, retired_work_events

    kind: Kind = "cancel" if status == RunStatus.CANCELLED else "terminate"
    command_id = new_id()
    ids = {
        "workflow_command_id": command_id,
        "workflow_instance_id": child["workflow_id"],
        "workflow_run_id": child["run_id"],
    }
    requested = (
        EventType.CANCEL_REQUESTED if kind == "cancel" else EventType.TERMINATE_REQUESTED,
        {**ids, "command_type": kind, "reason": reason},
    )
    closing = (
        EventType.WORKFLOW_CANCELLED if kind == "cancel" else EventType.WORKFLOW_TERMINATED,
        {
            **ids,
            "failure_id": new_id(),
            "failure_category": status,
            "closed_reason": status,
            "exception_class": EXCEPTION_CLASS[kind],
            "message": message(kind, reason),
            "reason": reason,
        },
    )
    retired = await retired_work_events(tx, child, command_id)
    await append(tx, child, [requested, *retired, closing], write_run=False)
    await close(tx, child, status=status, closed_reason=status)


async def parent_closed(tx: Tx, run: RunRow, close: CloseRun) -> None:
    """Apply parent-close policy to the open children of ``run``'s workflow (not on continue-as-new).

    Links stay with the run that started them; a continue-as-new chain hands them on by having
    its final run's close apply their policy. ``terminate`` / ``request_cancel`` close an open
    child run and record ``ParentClosePolicyApplied`` in ``run``'s history (after its closing
    event, as the reference server does); ``abandon`` leaves the child running. A link whose
    child already closed (its notice not yet fired, or waiting to retry) is closed as it is.
    """
    links = cast(
        list[ChildLinkRow], await tx.all(rows.OPEN_OF_WORKFLOW, {"b_workflow_id": run["workflow_id"]})
    )
    events: list[tuple[str, dict[str, Any]]] = []
    for link in links:
        policy = link["parent_close_policy"]
        child = await current_child_run(tx, link)
        if child is not None and not is_terminal_run(child):
            effect = _POLICY_EFFECT.get(policy)
            if effect is None:
                continue  # abandon: the child lives on; its close will find the parent closed
            reason = f"Parent workflow closed ({run['closed_reason']}); parent-close policy: {policy}."
            # The link first, so the child's own close leaves the parent no notice.
            await rows.update_link(tx, link, status=LINK_STATUS_OF_RUN[effect], closed_at=tx.now)
            await close_child(tx, child, effect, reason, close)
            events.append(
                (
                    EventType.PARENT_CLOSE_POLICY_APPLIED,
                    {
                        "child_instance_id": link["child_workflow_id"],
                        "child_run_id": child["run_id"],
                        "workflow_link_id": link["link_id"],
                        "policy": policy,
                        "reason": reason,
                    },
                )
            )
            continue
        await tx.conn.execute(rows.CANCEL_RETRY_TIMER, {"b_link_id": link["link_id"]})
        status = LINK_STATUS_OF_RUN.get(RunStatus(child["status"])) if child else None
        await rows.update_link(tx, link, status=status or ChildLinkStatus.FAILED, closed_at=tx.now)
    if events:
        await append(tx, run, events)
