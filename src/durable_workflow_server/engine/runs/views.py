"""Read-side shapes of runs on the control plane: describe, list rows and run rows (pure).

Functions take typed rows and return the typed wire bodies of :mod:`..shapes` (see
docs/protocol.md). Empty maps are ``{}``, never ``null``.
"""

from __future__ import annotations

import logging
from typing import Any, TypedDict

from durable_workflow.protocol import codec as payload_codec
from durable_workflow.protocol.history import is_terminal
from durable_workflow.protocol.payload_storage import ExternalStorageEnvelope
from durable_workflow.protocol.wire import Envelope

from ...store.rows import RunRow
from ..external_storage.stored import reference_of, wire_envelope
from ..history import events as h
from ..rendering import bad_fields, unrenderable_run
from ..shapes import DescribeWorkflowBody, RunListItem, WorkflowListItem
from ..util import rfc3339
from ..waiting_shapes import WaitingOn
from .waiting import nothing, wait_of

log = logging.getLogger(__name__)


class RunInstance(TypedDict):
    """What a describe needs of the run's instance (an ``InstanceRow`` has these and more)."""

    current_run_id: str | None
    run_count: int


def _decode(blob: str | None, codec: str | None) -> Any:
    if blob is None:
        return None
    reference = reference_of(blob)
    if reference is not None:  # kept in external storage: the reader resolves the reference
        return reference.envelope()
    try:
        return payload_codec.decode(blob, codec)
    except (payload_codec.PayloadCodecError, ValueError):
        return None


def _envelope(blob: str | None, codec: str | None) -> Envelope | ExternalStorageEnvelope | None:
    return wire_envelope(codec, blob) if blob is not None and codec else None


_DESCRIBE_STORED = ("memo", "search_attributes", "input", "output")


def describe(run: RunRow, instance: RunInstance, waiting: WaitingOn | None = None) -> DescribeWorkflowBody:
    """Describe body of a run (see docs/protocol.md); ``waiting`` is what an open run waits on.

    A run whose stored memo, search attributes or decoded input/output cannot be rendered as JSON
    (see :mod:`.rendering`) raises a ``server_error`` naming the fields, not a bare 500.
    """
    body = _describe(run, instance, waiting or nothing())
    bad = bad_fields(body, _DESCRIBE_STORED)
    if bad:
        raise unrenderable_run(run["workflow_id"], run["run_id"], bad)
    return body


def _describe(run: RunRow, instance: RunInstance, waiting: WaitingOn) -> DescribeWorkflowBody:
    status = run["status"]
    wait_kind, wait_reason = wait_of(waiting) if not is_terminal(status) else (None, None)
    current = instance["current_run_id"] == run["run_id"]
    output_codec = run["output_codec"] or run["payload_codec"]
    decoded_input = _decode(run["input_blob"], run["payload_codec"])
    return {
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "namespace": run["namespace"],
        "workflow_type": run["workflow_type"],
        "business_key": run["business_key"],
        "status": status,
        "status_bucket": h.bucket(status),
        "is_terminal": is_terminal(status),
        "closed_reason": run["closed_reason"],
        "task_queue": run["task_queue"],
        "run_number": run["run_number"],
        "run_count": instance["run_count"],
        "is_current_run": current,
        "compatibility": None,
        "payload_codec": run["payload_codec"],
        "execution_timeout_seconds": run["execution_timeout_seconds"],
        "run_timeout_seconds": run["run_timeout_seconds"],
        "execution_deadline_at": rfc3339(run["execution_deadline_at"]),
        "run_deadline_at": rfc3339(run["run_deadline_at"]),
        "input": decoded_input if decoded_input is not None else [],
        "output": _decode(run["output_blob"], output_codec),
        "input_envelope": _envelope(run["input_blob"], run["payload_codec"]),
        "output_envelope": _envelope(run["output_blob"], output_codec),
        "started_at": rfc3339(run["started_at"]),
        "closed_at": rfc3339(run["closed_at"]),
        "last_progress_at": rfc3339(run["last_progress_at"]),
        "wait_kind": wait_kind or run["wait_kind"],
        "wait_reason": wait_reason or run["wait_reason"],
        "waiting_on": waiting,
        "paused": run["paused_at"] is not None,
        "paused_at": rfc3339(run["paused_at"]),
        "pause_reason": run["pause_reason"],
        "archived": run["archived_at"] is not None,
        "archived_at": rfc3339(run["archived_at"]),
        "archive_reason": run["archive_reason"],
        "memo": dict(run["memo"] or {}),
        "search_attributes": dict(run["search_attributes"] or {}),
        "parent_workflow_id": run["parent_workflow_id"],
        "parent_run_id": run["parent_run_id"],
        "actions": h.actions(status, current, archived=run["archived_at"] is not None),
    }


def list_row(run: RunRow) -> WorkflowListItem:
    """One row of ``GET /workflows`` (see docs/protocol.md).

    A row whose stored search attributes cannot be rendered as JSON (see :mod:`.rendering`) stays
    in the list, so the run can still be found and opened, with ``search_attributes: null`` and a
    ``render_error`` naming the field; a warning is logged. One such row never fails the list.
    """
    row = _list_row(run)
    bad = bad_fields(row, ("search_attributes",))
    if bad:
        log.warning("workflow run %s/%s: cannot render %s", run["workflow_id"], run["run_id"], bad)
        # Only ``search_attributes`` is checked, and it is the one nullable stored map of a row.
        row["search_attributes"] = None
        row["render_error"] = {
            "fields": bad,
            "message": f"Stored {', '.join(bad)} of this run cannot be rendered as JSON.",
        }
    return row


def _list_row(run: RunRow) -> WorkflowListItem:
    return {
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "workflow_type": run["workflow_type"],
        "business_key": run["business_key"],
        "status": run["status"],
        "status_bucket": h.bucket(run["status"]),
        "task_queue": run["task_queue"],
        "is_terminal": is_terminal(run["status"]),
        "started_at": rfc3339(run["started_at"]),
        "closed_at": rfc3339(run["closed_at"]),
        "search_attributes": dict(run["search_attributes"] or {}),
    }


def run_row(run: RunRow, current_run_id: str | None) -> RunListItem:
    """One entry of ``GET /workflows/{id}/runs`` (see docs/protocol.md)."""
    return {
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "run_number": run["run_number"],
        "workflow_type": run["workflow_type"],
        "business_key": run["business_key"],
        "status": run["status"],
        "status_bucket": h.bucket(run["status"]),
        "is_current_run": run["run_id"] == current_run_id,
        "task_queue": run["task_queue"],
        "started_at": rfc3339(run["started_at"]),
        "closed_at": rfc3339(run["closed_at"]),
    }
