"""Reading what the server sends: one parser per body kind.

Each received body is parsed once, here, into a frozen value the rest of the SDK reads. The
parsers own every compatibility fallback for older or foreign servers (a renamed key, a string
where a number belongs, a compressed history page), so no other module pokes at raw task
dicts. The shapes themselves are in :mod:`durable_workflow.protocol.wire`.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from ._external_payloads import PayloadResolver
from ._fields import opt_text, text
from .protocol import codec
from .protocol.errors import INVALID_PAYLOAD_FRAMING
from .protocol.payload_storage import ExternalPayloadIntegrityError
from .protocol.wire import (
    ActivityDeadlines,
    ActivityTask,
    Envelope,
    HistoryEvent,
    HistoryPage,
    QueryTask,
    RetryPolicyBody,
    WorkflowTask,
)

# Reason of a history page whose compressed events cannot be read back.
MALFORMED_HISTORY = "malformed_history"
# Reason of a task whose externally stored payload is missing, truncated or changed.
EXTERNAL_PAYLOAD_INTEGRITY = "external_payload_integrity"


class MalformedTask(ValueError):
    """A leased task whose body cannot be read (corrupt compressed history, arguments that are no payload).

    Raised by the parsers after the lease fields are read, and carrying them, so the handler can
    still report the task as failed: otherwise it would come back after every lease expiry.

    Attributes:
        reason: ``malformed_history`` or ``invalid_payload_framing``.
        task_id / lease_owner: The lease the failure is reported under.
        attempt: The workflow-task attempt (or the activity attempt number).
        attempt_id: The activity attempt id (``""`` for workflow tasks).
    """

    def __init__(
        self, message: str, *, reason: str, task_id: str, lease_owner: str, attempt: int, attempt_id: str = ""
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.task_id = task_id
        self.lease_owner = lease_owner
        self.attempt = attempt
        self.attempt_id = attempt_id

    @property
    def failure_type(self) -> str:
        """The exception type the task is failed with."""
        if self.reason == EXTERNAL_PAYLOAD_INTEGRITY:
            return ExternalPayloadIntegrityError.__name__
        return "MalformedTask"


class MalformedHistoryPage(ValueError):
    """A history page whose ``history_events_compressed`` is not base64 of compressed JSON events."""


def _counter(value: Any) -> int:
    """An attempt counter: a non-negative int, or its ASCII digits as text (some servers send text); else 1.

    ``str.isdigit`` alone is not enough: ``"²"`` is a digit to it but not to ``int()``.
    """
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return value if value >= 0 else 1
    if isinstance(value, str) and value.isascii() and value.isdecimal():
        return int(value)
    return 1


def _arguments(raw: Mapping[str, Any], payload_codec: str | None) -> Envelope | None:
    """A task's ``arguments`` as an envelope; raises ``ValueError`` for a value that is no payload.

    Older servers send the blob bare, to be read with the task's ``payload_codec``: it becomes
    an envelope of that codec. A task without a codec is refused before its arguments are
    decoded, so a bare blob without one has nothing to pair with and reads as ``None``.
    """
    value = raw.get("arguments")
    if value is None:
        return None
    if codec.is_envelope(value):
        # An envelope as sent; a bad codec or blob inside it is the codec's to refuse.
        return cast("Envelope", dict(value))
    if isinstance(value, str):
        return {"codec": payload_codec, "blob": value} if payload_codec is not None else None
    raise ValueError(f"arguments are a {type(value).__name__}, not a payload envelope")


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
    def from_wire(
        cls, raw: HistoryPage | Mapping[str, Any], *, resolver: PayloadResolver | None = None
    ) -> HistoryPageRead:
        """Parse a page; a compressed page (``history_events_compressed``) is inflated.

        With a ``resolver`` the events' external payloads are resolved (after inflating).

        Raises:
            MalformedHistoryPage: The compressed events, or a reference in them, cannot be read.
            ExternalPayloadIntegrityError: A referenced object is missing, truncated or changed.
        """
        encoding = raw.get("history_events_encoding")
        blob = raw.get("history_events_compressed")
        compressed = bool(blob and encoding)
        events = _inflate(blob, str(encoding)) if compressed else list(raw.get("history_events") or [])
        if resolver is not None:
            try:
                events = resolver.resolve(events)
            except ExternalPayloadIntegrityError:
                raise
            except ValueError as exc:
                raise MalformedHistoryPage(f"a history event holds a bad payload reference: {exc}") from exc
        token = raw.get("next_history_page_token")
        return cls(cast("list[HistoryEvent]", events), str(token) if token else None)


def _inflate(blob: object, encoding: str) -> list[Any]:
    """The events of a compressed page; any corruption is a ``MalformedHistoryPage``."""
    try:
        if not isinstance(blob, str):
            raise TypeError(f"history_events_compressed is a {type(blob).__name__}, not text")
        data = base64.b64decode(blob, validate=True)
        inflated = gzip.decompress(data) if encoding == "gzip" else zlib.decompress(data, -zlib.MAX_WBITS)
        loaded = json.loads(inflated)
    except (binascii.Error, zlib.error, OSError, EOFError, TypeError, ValueError) as exc:
        # OSError covers gzip.BadGzipFile; ValueError covers JSON and UTF-8 decoding.
        raise MalformedHistoryPage(
            f"cannot read the {encoding} history_events_compressed: {type(exc).__name__}: {exc}"
        ) from exc
    return loaded if isinstance(loaded, list) else []  # json.loads made a fresh list already


# --------------------------------------------------------------------------- workflow tasks


def _unreadable_reason(exc: Exception) -> str:
    if isinstance(exc, ExternalPayloadIntegrityError):
        return EXTERNAL_PAYLOAD_INTEGRITY
    return MALFORMED_HISTORY if isinstance(exc, MalformedHistoryPage) else INVALID_PAYLOAD_FRAMING


@dataclass(frozen=True)
class WorkflowTaskRead:
    """A leased workflow task.

    Attributes:
        raw: The task as received (what interceptors see).
        first_page: The history that came inside the task.
        payload_codec: The codec the task declares (``None`` when it declares none; the
            handler refuses such a task).
        arguments: The workflow's start arguments, when the task carries them (else they are
            read from the ``WorkflowStarted`` event).
        update_id: Set when the task carries an update, which is answered with exactly one
            complete/fail_update command.
        history_after_sequence / full_history_token: Set on a task the server handed to this
            worker as the run's sticky worker (capability ``sticky_workflow_tasks``): its history
            holds only the events after that history sequence, and the token reads the whole
            history from its start.
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
    payload_codec: str | None
    arguments: Envelope | None
    raw: Mapping[str, Any] = field(repr=False)
    history_after_sequence: int | None = None
    full_history_token: str | None = None

    @classmethod
    def from_wire(
        cls,
        raw: WorkflowTask | Mapping[str, Any],
        *,
        worker_id: str,
        task_queue: str,
        resolver: PayloadResolver | None = None,
    ) -> WorkflowTaskRead:
        """Parse a poll's ``task``; the lease owner defaults to this worker, the queue to its own.

        With a ``resolver``, external payloads (arguments, first-page history) are resolved and
        ``raw`` is the resolved task.

        Raises:
            MalformedTask: The first history page or the arguments cannot be read, or an
                externally stored payload is missing, truncated or changed.
        """
        task_id = text(raw, "task_id")
        lease_owner = str(raw.get("lease_owner") or worker_id)
        attempt = _counter(raw.get("workflow_task_attempt"))
        payload_codec = opt_text(raw, "payload_codec")
        try:
            if resolver is not None:
                raw = resolver.resolve(raw)
            first_page = HistoryPageRead.from_wire(raw, resolver=resolver)
            arguments = _arguments(raw, payload_codec)
        except (ValueError, ExternalPayloadIntegrityError) as exc:
            raise MalformedTask(
                f"workflow task {task_id}: {exc}",
                reason=_unreadable_reason(exc),
                task_id=task_id,
                lease_owner=lease_owner,
                attempt=attempt,
            ) from exc
        return cls(
            task_id=task_id,
            lease_owner=lease_owner,
            attempt=attempt,
            workflow_id=text(raw, "workflow_id"),
            run_id=text(raw, "run_id"),
            workflow_type=str(raw.get("workflow_type") or ""),
            task_queue=str(raw.get("task_queue") or task_queue),
            first_page=first_page,
            update_id=str(raw["workflow_update_id"]) if raw.get("workflow_update_id") else None,
            payload_codec=payload_codec,
            arguments=arguments,
            raw=raw,
            history_after_sequence=_sequence(raw.get("history_after_sequence")),
            full_history_token=opt_text(raw, "full_history_next_page_token"),
        )


def _sequence(value: Any) -> int | None:
    """A history sequence: a non-negative int (or its digits as text); anything else is absent."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdecimal():
        return int(value)
    return None


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
    # An envelope as sent; decoding it (and refusing a bad codec or blob) is the codec's job.
    arguments: Envelope | None
    workflow_id: str | None
    run_id: str | None
    activity_execution_id: str | None
    task_queue: str
    lease_expires_at: str | None
    deadlines: ActivityDeadlines
    retry_policy: RetryPolicyBody | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_wire(
        cls,
        raw: ActivityTask | Mapping[str, Any],
        *,
        worker_id: str,
        task_queue: str,
        resolver: PayloadResolver | None = None,
    ) -> ActivityTaskRead:
        """Parse a poll's ``task``; older servers name the attempt id ``attempt_id``.

        With a ``resolver``, externally stored arguments are fetched and verified.

        Raises:
            MalformedTask: The arguments are neither an envelope, a bare blob nor absent, or
                their stored object is missing, truncated or changed.
        """
        task_id = text(raw, "task_id")
        attempt_id = str(raw.get("activity_attempt_id") or raw.get("attempt_id") or "")
        lease_owner = str(raw.get("lease_owner") or worker_id)
        attempt_number = _counter(raw.get("attempt_number"))
        payload_codec = opt_text(raw, "payload_codec")
        try:
            if resolver is not None:
                raw = resolver.resolve(raw)
            arguments = _arguments(raw, payload_codec)
        except (ValueError, ExternalPayloadIntegrityError) as exc:
            raise MalformedTask(
                f"activity task {task_id}: {exc}",
                reason=_unreadable_reason(exc),
                task_id=task_id,
                lease_owner=lease_owner,
                attempt=attempt_number,
                attempt_id=attempt_id,
            ) from exc
        retry_policy = raw.get("retry_policy")
        deadlines = raw.get("deadlines")
        return cls(
            task_id=task_id,
            attempt_id=attempt_id,
            lease_owner=lease_owner,
            activity_type=str(raw.get("activity_type") or ""),
            attempt_number=attempt_number,
            payload_codec=payload_codec,
            arguments=arguments,
            workflow_id=opt_text(raw, "workflow_id"),
            run_id=opt_text(raw, "run_id"),
            activity_execution_id=opt_text(raw, "activity_execution_id"),
            task_queue=str(raw.get("task_queue") or task_queue),
            lease_expires_at=opt_text(raw, "lease_expires_at"),
            deadlines=cast("ActivityDeadlines", dict(deadlines)) if isinstance(deadlines, Mapping) else {},
            retry_policy=cast("RetryPolicyBody", retry_policy) if isinstance(retry_policy, Mapping) else None,
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
    def from_wire(
        cls, raw: QueryTask | Mapping[str, Any], *, worker_id: str, resolver: PayloadResolver | None = None
    ) -> QueryTaskRead:
        """Parse a poll's ``task``; ``{"codec": null, "blob": null}`` arguments mean none were sent.

        With a ``resolver`` the task's external payloads are resolved first; its errors
        (``ExternalPayloadIntegrityError``, ``ValueError``) propagate: a query is refused, not failed.
        """
        if resolver is not None:
            raw = resolver.resolve(raw)
        arguments = raw.get("query_arguments")
        has_arguments = isinstance(arguments, Mapping) and arguments.get("blob") is not None
        return cls(
            query_task_id=text(raw, "query_task_id"),
            attempt=_counter(raw.get("query_task_attempt")),
            lease_owner=str(raw.get("lease_owner") or worker_id),
            workflow_id=text(raw, "workflow_id"),
            run_id=text(raw, "run_id"),
            workflow_type=text(raw, "workflow_type"),
            query_name=text(raw, "query_name"),
            payload_codec=opt_text(raw, "payload_codec"),
            query_arguments=cast("Envelope", arguments) if has_arguments else None,
            history_events=list(raw.get("history_events") or []),
            raw=raw,
        )
