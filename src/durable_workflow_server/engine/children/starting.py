"""Starting child runs: the ``start_child_workflow`` command and a retry after a failed run.

The child gets its own instance, with a server-generated workflow id
``<parent workflow id>:run-<parent run number>:child-<step sequence>`` (readable, and unique:
a parent run number is unique under its workflow id, a sequence under its run), or
``child-<parent run id>-<sequence>`` when the parent's id is too long to fit the column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from durable_workflow.protocol.history import EventType

from ...store.rows import ChildLinkRow, InstanceRow, RunRow
from ...store.statuses import ChildLinkStatus
from ..history.rows import append
from ..runs import rows as run_rows
from ..runs.lifecycle import ParentLink, create_run
from ..runs.steps import STEP_CHILD, Step
from ..transaction import Tx
from ..util import new_id
from . import events, rows

Event = tuple[str, dict[str, Any]]
_WORKFLOW_ID_MAX = 191  # workflow_instances.workflow_id


def child_workflow_id(parent: RunRow, sequence: int) -> str:
    """The server-generated workflow id of the child started at ``sequence`` of ``parent``."""
    readable = f"{parent['workflow_id']}:run-{parent['run_number']}:child-{sequence}"
    return readable if len(readable) <= _WORKFLOW_ID_MAX else f"child-{parent['run_id']}-{sequence}"


async def _new_run(
    tx: Tx,
    parent_workflow_id: str,
    link: ChildLinkRow,
    run_number: int,
    *,
    execution_deadline_at: datetime | None = None,
    retry_of: str | None = None,
) -> RunRow:
    extra = {**events.parent_started(link, parent_workflow_id), "retry_attempt": link["attempt"]}
    if retry_of is not None:
        extra["retry_of_child_workflow_run_id"] = retry_of
    return await create_run(
        tx,
        namespace=link["namespace"],
        workflow_id=link["child_workflow_id"],
        workflow_type=link["child_workflow_type"],
        task_queue=link["task_queue"],
        payload_codec=link["payload_codec"],
        input_blob=link["arguments_blob"],
        run_number=run_number,
        execution_timeout_seconds=link["execution_timeout_seconds"],
        run_timeout_seconds=link["run_timeout_seconds"],
        execution_deadline_at=execution_deadline_at,
        run_id=link["child_run_id"],
        parent=ParentLink(
            run_id=link["parent_run_id"], workflow_id=parent_workflow_id, link_id=link["link_id"]
        ),
        started_extra=extra,
    )


async def start_child(
    tx: Tx, run: RunRow, cmd: dict[str, Any], seq: int, batch: str, steps: list[Step]
) -> list[Event]:
    """A ``start_child_workflow`` command: link, child instance and run #1, and the parent's events.

    The new step joins ``steps``. The parent holds its lock; the child's rows are all new.
    """
    codec, blob = cmd["arguments"] or (run["payload_codec"], None)
    link: ChildLinkRow = {
        "link_id": new_id(),
        "parent_run_id": run["run_id"],
        "parent_workflow_id": run["workflow_id"],
        "namespace": run["namespace"],
        "sequence": seq,
        "batch_id": batch,
        "child_workflow_id": child_workflow_id(run, seq),
        "child_run_id": new_id(),
        "child_workflow_type": cmd["workflow_type"],
        "task_queue": cmd["queue"] or run["task_queue"],
        "payload_codec": codec,
        "arguments_blob": blob,
        "parent_close_policy": cmd["parent_close_policy"],
        "retry_policy": cmd["retry_policy"],
        "execution_timeout_seconds": cmd["execution_timeout_seconds"],
        "run_timeout_seconds": cmd["run_timeout_seconds"],
        "attempt": 1,
        "status": ChildLinkStatus.OPEN,
        "created_at": tx.now,
        "closed_at": None,
    }
    await tx.conn.execute(rows.INSERT, link)
    await tx.conn.execute(
        run_rows.INSERT_INSTANCE,
        {
            "workflow_id": link["child_workflow_id"],
            "namespace": run["namespace"],
            "workflow_type": link["child_workflow_type"],
            "current_run_id": link["child_run_id"],
            "run_count": 1,
            "created_at": tx.now,
        },
    )
    child = await _new_run(tx, run["workflow_id"], link, 1)
    steps.append(
        Step(STEP_CHILD, link["link_id"], seq, batch, False, workflow_type=link["child_workflow_type"])
    )
    return [
        (EventType.CHILD_WORKFLOW_SCHEDULED, events.link_fields(link, child)),
        (EventType.CHILD_RUN_STARTED, events.run_started(link, child)),
    ]


async def start_retry(tx: Tx, parent: RunRow, link: ChildLinkRow, backoff_seconds: int) -> None:
    """Start the next attempt of ``link``'s child as a new run of the same instance.

    Called with the parent and the link locked; the failed run is locked next, then the child
    instance (the order every instance move uses: run, then instance). The new run keeps the
    logical execution deadline of the first, so ``execution_timeout_seconds`` caps all attempts.
    """
    failed = await run_rows.load_run(tx, str(link["child_run_id"]))
    instance = cast(
        InstanceRow | None,
        await tx.one(tx.store.lock(run_rows.INSTANCE), {"b_workflow_id": link["child_workflow_id"]}),
    )
    assert failed is not None and instance is not None
    run_number = int(instance["run_count"]) + 1
    await rows.update_link(tx, link, attempt=int(link["attempt"]) + 1, child_run_id=new_id())
    child = await _new_run(
        tx,
        parent["workflow_id"],
        link,
        run_number,
        execution_deadline_at=failed["execution_deadline_at"],
        retry_of=failed["run_id"],
    )
    await tx.conn.execute(
        run_rows.UPDATE_INSTANCE,
        {
            "b_workflow_id": link["child_workflow_id"],
            "current_run_id": child["run_id"],
            "run_count": run_number,
        },
    )
    started = events.run_started(link, child, retry_of=failed["run_id"], backoff_seconds=backoff_seconds)
    await append(tx, parent, [(EventType.CHILD_RUN_STARTED, started)])
