"""Shaping server bodies into what ``dw`` prints: namespace context, contract fields, run views.

Used by the command modules; the printing itself is ``output.py``'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .output import Renderer, Status

# How a worker cohort without a build id is shown (task queues and workers).
UNVERSIONED = "(unversioned)"


def with_namespace(body: Mapping[str, Any], namespace: str, *, items: str | None = None) -> dict[str, Any]:
    """``body`` with ``namespace`` added where missing (also to each item of the list ``items``)."""
    out = dict(body)
    out.setdefault("namespace", namespace)
    if items is not None:
        rows = out.get(items)
        out[items] = [
            {**row, "namespace": row.get("namespace") or namespace} if isinstance(row, Mapping) else row
            for row in (rows if isinstance(rows, list) else [])
        ]
    return out


def contract_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with its ``control_plane`` block's identity copied to top-level fields (cli.md §2.5)."""
    out = dict(body)
    block = body.get("control_plane")
    if isinstance(block, Mapping):
        for key, name in (
            ("schema", "control_plane_schema"),
            ("version", "control_plane_schema_version"),
            ("operation", "control_plane_operation"),
        ):
            if block.get(key) is not None:
                out.setdefault(name, block[key])
        out.setdefault("control_plane_version", "2")
    return out


def backfill(body: dict[str, Any], **values: Any) -> dict[str, Any]:
    """Fill fields the server left out from the command's own arguments (``None`` skipped)."""
    for key, value in values.items():
        if value is not None and body.get(key) is None:
            body[key] = value
    return body


def status(value: Any) -> Status | None:
    return Status(str(value)) if value not in (None, "") else None


def run_fields(out: Renderer, body: Mapping[str, Any], namespace: str) -> list[tuple[str, Any]]:
    """The key/value rows of a describe / show-run view."""
    get = body.get
    actions = get("actions")
    enabled = (
        [name.removeprefix("can_") for name, on in actions.items() if on]
        if isinstance(actions, Mapping)
        else []
    )
    return [
        ("Workflow ID", get("workflow_id")),
        ("Run ID", get("run_id")),
        ("Type", get("workflow_type")),
        ("Namespace", get("namespace") or namespace),
        ("Business Key", get("business_key")),
        ("Status", status(get("status"))),
        ("Status Bucket", get("status_bucket")),
        ("Run Number", get("run_number")),
        ("Run Count", get("run_count")),
        ("Current Run", get("is_current_run")),
        ("Task Queue", get("task_queue")),
        ("Compatibility", get("compatibility")),
        ("Payload Codec", get("payload_codec")),
        ("Execution Timeout", seconds(get("execution_timeout_seconds"))),
        ("Run Timeout", seconds(get("run_timeout_seconds"))),
        ("Execution Deadline", out.moment(get("execution_deadline_at"))),
        ("Run Deadline", out.moment(get("run_deadline_at"))),
        ("Started", out.moment(get("started_at"))),
        ("Closed", out.moment(get("closed_at"))),
        ("Last Progress", out.moment(get("last_progress_at"))),
        ("Closed Reason", get("closed_reason")),
        ("Paused", True if get("paused") else None),
        ("Wait Kind", get("wait_kind")),
        ("Wait Reason", get("wait_reason")),
        ("Input", get("input")),
        ("Output", get("output")),
        ("Memo", get("memo") or None),
        ("Search Attributes", get("search_attributes") or None),
        ("Actions", ", ".join(enabled) or None),
    ]


def seconds(value: Any) -> str | None:
    """``30s`` for a number of seconds (``None`` for anything else)."""
    return f"{value}s" if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def settled(
    out: Renderer,
    title: str,
    body: Mapping[str, Any],
    rows: Sequence[tuple[str, Any]],
    after: Sequence[tuple[str, Any]] = (),
) -> None:
    """A worker-plane complete/fail answer: the server's body as it is in JSON, else a block
    saying whether it was recorded (a fenced or settled task is an answer, not an error)."""
    if out.json_mode:
        out.document(dict(body))
        return
    out.title(title if body.get("recorded") is not False else f"{title} (not recorded)")
    out.fields(
        [
            *rows,
            ("Outcome", status(body.get("outcome"))),
            ("Recorded", body.get("recorded")),
            ("Reason", body.get("reason")),
            *after,
        ]
    )
