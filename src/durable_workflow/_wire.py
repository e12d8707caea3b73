"""Reading what the server sends: one parser per body kind.

Each received body is parsed once, here, into a frozen value the rest of the SDK reads. The
parsers own every compatibility fallback for older or foreign servers (a renamed key, a string
where a number belongs, a compressed history page), so no other module pokes at raw task
dicts. The shapes themselves are in :mod:`durable_workflow.protocol.wire`.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from .protocol.wire import ActivityTask, Envelope, HistoryEvent, HistoryPage, QueryTask, WorkflowTask


def _text(raw: Mapping[str, Any], key: str, default: str = "") -> str:
    value = raw.get(key)
    return default if value is None else str(value)


def _opt_text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return None if value is None else str(value)


def _counter(value: Any) -> int:
    """An attempt counter: a non-negative int, or its digits as text (some servers send text); else 1."""
    if isinstance(value, (int, str)) and not isinstance(value, bool) and str(value).isdigit():
        return int(value)
    return 1


def event_type(event: Mapping[str, Any]) -> str:
    """A history event's type: ``event_type`` (paged history), or ``type`` (exports)."""
    value = event.get("event_type") or event.get("type") or ""
    return str(value)


def event_payload(event: Mapping[str, Any]) -> dict[str, Any]:
    """A history event's payload as a dict (some exports ship it as JSON text)."""
    payload = event.get("payload")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return {}
    return dict(payload) if isinstance(payload, Mapping) else {}


# --------------------------------------------------------------------------- history pages


@dataclass(frozen=True)
class HistoryPageRead:
    """The events of one history page and the token of the next (``None`` on the last)."""

    events: list[HistoryEvent]
    next_page_token: str | None

    @classmethod
    def from_wire(cls, raw: HistoryPage | Mapping[str, Any]) -> HistoryPageRead:
        """Parse a page; a compressed page (``history_events_compressed``) is inflated."""
        encoding = raw.get("history_events_encoding")
        blob = raw.get("history_events_compressed")
        if blob and encoding:
            data = base64.b64decode(blob)
            text = gzip.decompress(data) if encoding == "gzip" else zlib.decompress(data, -zlib.MAX_WBITS)
            loaded = json.loads(text)
            events = list(loaded) if isinstance(loaded, list) else []
        else:
            events = list(raw.get("history_events") or [])
        token = raw.get("next_history_page_token")
        return cls(cast("list[HistoryEvent]", events), str(token) if token else None)


# --------------------------------------------------------------------------- workflow tasks


@dataclass(frozen=True)
class WorkflowTaskRead:
    """A leased workflow task.

    Attributes:
        raw: The task as received (what interceptors see).
        first_page: The history that came inside the task.
        update_id: Set when the task carries an update, which is answered with exactly one
            complete/fail_update command.
    """

    task_id: str
    lease_owner: str
    attempt: int
    workflow_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    first_page: HistoryPageRead
    update_id: str | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_wire(
        cls, raw: WorkflowTask | Mapping[str, Any], *, worker_id: str, task_queue: str
    ) -> WorkflowTaskRead:
        """Parse a poll's ``task``; the lease owner defaults to this worker, the queue to its own."""
        return cls(
            task_id=_text(raw, "task_id"),
            lease_owner=str(raw.get("lease_owner") or worker_id),
            attempt=_counter(raw.get("workflow_task_attempt")),
            workflow_id=_text(raw, "workflow_id"),
            run_id=_text(raw, "run_id"),
            workflow_type=str(raw.get("workflow_type") or ""),
            task_queue=str(raw.get("task_queue") or task_queue),
            first_page=HistoryPageRead.from_wire(raw),
            update_id=str(raw["workflow_update_id"]) if raw.get("workflow_update_id") else None,
            raw=raw,
        )


# --------------------------------------------------------------------------- activity tasks


@dataclass(frozen=True)
class ActivityTaskRead:
    """A leased activity attempt."""

    task_id: str
    attempt_id: str
    lease_owner: str
    activity_type: str
    attempt_number: int
    payload_codec: str | None
    arguments: Any  # an envelope as sent; decoding (and refusing a bad one) is the codec's job
    workflow_id: str | None
    run_id: str | None
    activity_execution_id: str | None
    task_queue: str
    lease_expires_at: str | None
    deadlines: Mapping[str, Any]
    retry_policy: Mapping[str, Any] | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_wire(
        cls, raw: ActivityTask | Mapping[str, Any], *, worker_id: str, task_queue: str
    ) -> ActivityTaskRead:
        """Parse a poll's ``task``; older servers name the attempt id ``attempt_id``."""
        retry_policy = raw.get("retry_policy")
        return cls(
            task_id=_text(raw, "task_id"),
            attempt_id=str(raw.get("activity_attempt_id") or raw.get("attempt_id") or ""),
            lease_owner=str(raw.get("lease_owner") or worker_id),
            activity_type=str(raw.get("activity_type") or ""),
            attempt_number=_counter(raw.get("attempt_number")),
            payload_codec=_opt_text(raw, "payload_codec"),
            arguments=raw.get("arguments"),
            workflow_id=_opt_text(raw, "workflow_id"),
            run_id=_opt_text(raw, "run_id"),
            activity_execution_id=_opt_text(raw, "activity_execution_id"),
            task_queue=str(raw.get("task_queue") or task_queue),
            lease_expires_at=_opt_text(raw, "lease_expires_at"),
            deadlines=dict(raw.get("deadlines") or {}),
            retry_policy=retry_policy if isinstance(retry_policy, Mapping) else None,
            raw=raw,
        )


# --------------------------------------------------------------------------- query tasks


@dataclass(frozen=True)
class QueryTaskRead:
    """A leased query task."""

    query_task_id: str
    attempt: int
    lease_owner: str
    workflow_id: str
    run_id: str
    workflow_type: str
    query_name: str
    payload_codec: str | None
    query_arguments: Envelope | None
    history_events: list[HistoryEvent]
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_wire(cls, raw: QueryTask | Mapping[str, Any], *, worker_id: str) -> QueryTaskRead:
        """Parse a poll's ``task``; ``{"codec": null, "blob": null}`` arguments mean none were sent."""
        arguments = raw.get("query_arguments")
        has_arguments = isinstance(arguments, Mapping) and arguments.get("blob") is not None
        return cls(
            query_task_id=_text(raw, "query_task_id"),
            attempt=_counter(raw.get("query_task_attempt")),
            lease_owner=str(raw.get("lease_owner") or worker_id),
            workflow_id=_text(raw, "workflow_id"),
            run_id=_text(raw, "run_id"),
            workflow_type=_text(raw, "workflow_type"),
            query_name=_text(raw, "query_name"),
            payload_codec=_opt_text(raw, "payload_codec"),
            query_arguments=cast("Envelope", arguments) if has_arguments else None,
            history_events=list(raw.get("history_events") or []),
            raw=raw,
        )
