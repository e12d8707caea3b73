"""Typed results of the workflow methods. Every class keeps the full answer in ``raw``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._fields import mapping, opt_bool, opt_int, opt_text, text
from ..errors import PayloadError
from ..protocol import codec
from ..protocol.wire import DescribeWorkflowResponse
from ._waiting import WaitingOn

__all__ = [
    "WaitingOn",
    "WorkflowCommandResult",
    "WorkflowExecution",
    "WorkflowList",
    "WorkflowRun",
    "WorkflowRunList",
]


def decode_described_payload(data: Mapping[str, Any], name: str) -> Any:
    """Decode ``<name>_envelope`` when present, else use the plain ``<name>`` field.

    A server may send the decoded value, the envelope, or both; the envelope is authoritative
    because it is what the workflow actually recorded.
    """
    env = data.get(f"{name}_envelope")
    if env:
        try:
            return codec.decode_payload(env, opt_text(data, "payload_codec") or codec.AVRO)
        except codec.PayloadCodecError as exc:
            if name in data:
                return data.get(name)
            raise PayloadError(f"cannot decode {name}_envelope: {exc}", exc.reason) from exc
    return data.get(name)


def _run_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields :class:`WorkflowExecution` and :class:`WorkflowRun` read alike."""
    return {
        "workflow_type": text(data, "workflow_type"),
        "status": text(data, "status"),
        "namespace": opt_text(data, "namespace"),
        "task_queue": opt_text(data, "task_queue"),
        "payload_codec": opt_text(data, "payload_codec"),
        "input": decode_described_payload(data, "input"),
        "output": decode_described_payload(data, "output"),
        "business_key": opt_text(data, "business_key"),
        "status_bucket": opt_text(data, "status_bucket"),
        "closed_reason": opt_text(data, "closed_reason"),
        "run_number": opt_int(data, "run_number"),
        "started_at": opt_text(data, "started_at"),
        "closed_at": opt_text(data, "closed_at"),
        "memo": mapping(data, "memo"),
        "search_attributes": mapping(data, "search_attributes"),
        "raw": dict(data),
    }


@dataclass(frozen=True)
class WorkflowExecution:
    """A workflow as described by the server (its current run, or one specific run).

    ``input`` and ``output`` are decoded values (``input_envelope`` / ``output_envelope`` when the
    server sends them). Fields the server omitted are ``None`` (or empty for maps). An open run
    says what it waits on in ``waiting_on`` (and, in words, ``wait_kind`` / ``wait_reason``).
    ``parent_workflow_id`` / ``parent_run_id`` name the parent of a child workflow's run.
    """

    workflow_id: str
    run_id: str | None
    workflow_type: str
    status: str
    namespace: str | None = None
    task_queue: str | None = None
    payload_codec: str | None = None
    input: Any = None
    output: Any = None
    business_key: str | None = None
    status_bucket: str | None = None
    is_terminal: bool | None = None
    closed_reason: str | None = None
    run_number: int | None = None
    run_count: int | None = None
    started_at: str | None = None
    closed_at: str | None = None
    memo: dict[str, Any] = field(default_factory=dict)
    search_attributes: dict[str, Any] = field(default_factory=dict)
    wait_kind: str | None = None
    wait_reason: str | None = None
    waiting_on: WaitingOn = field(default_factory=WaitingOn)
    paused: bool | None = None
    pause_reason: str | None = None
    archived: bool | None = None
    archived_at: str | None = None
    archive_reason: str | None = None
    parent_workflow_id: str | None = None
    parent_run_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: DescribeWorkflowResponse | Mapping[str, Any]) -> WorkflowExecution:
        """Build from a describe / list-row body.

        Raises:
            PayloadError: An envelope could not be decoded and no plain value was sent.
        """
        return cls(
            workflow_id=text(data, "workflow_id"),
            run_id=opt_text(data, "run_id"),
            is_terminal=opt_bool(data, "is_terminal"),
            run_count=opt_int(data, "run_count"),
            wait_kind=opt_text(data, "wait_kind"),
            wait_reason=opt_text(data, "wait_reason"),
            waiting_on=WaitingOn.from_dict(data.get("waiting_on")),
            paused=opt_bool(data, "paused"),
            pause_reason=opt_text(data, "pause_reason"),
            archived=opt_bool(data, "archived"),
            archived_at=opt_text(data, "archived_at"),
            archive_reason=opt_text(data, "archive_reason"),
            parent_workflow_id=opt_text(data, "parent_workflow_id"),
            parent_run_id=opt_text(data, "parent_run_id"),
            **_run_fields(data),
        )


@dataclass(frozen=True)
class WorkflowList:
    """One page of ``list_workflows``; pass ``next_page_token`` back to get the next page."""

    workflows: list[WorkflowExecution]
    next_page_token: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Iterator[WorkflowExecution]:
        return iter(self.workflows)

    def __len__(self) -> int:
        return len(self.workflows)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkflowList:
        """Build from a ``GET /workflows`` body."""
        rows = data.get("workflows")
        items = (
            [WorkflowExecution.from_dict(row) for row in rows if isinstance(row, Mapping)]
            if isinstance(rows, list)
            else []
        )
        return cls(workflows=items, next_page_token=opt_text(data, "next_page_token"), raw=dict(data))


@dataclass(frozen=True)
class WorkflowRun:
    """One run of a workflow (continue-as-new and retries create several under one id)."""

    workflow_id: str
    run_id: str
    workflow_type: str
    status: str
    run_number: int | None = None
    status_bucket: str | None = None
    task_queue: str | None = None
    business_key: str | None = None
    is_current_run: bool | None = None
    closed_reason: str | None = None
    started_at: str | None = None
    closed_at: str | None = None
    namespace: str | None = None
    payload_codec: str | None = None
    input: Any = None
    output: Any = None
    memo: dict[str, Any] = field(default_factory=dict)
    search_attributes: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, workflow_id: str = "") -> WorkflowRun:
        """Build from a run row or a run-describe body; ``workflow_id`` fills a missing id."""
        return cls(
            workflow_id=text(data, "workflow_id", workflow_id),
            run_id=text(data, "run_id"),
            is_current_run=opt_bool(data, "is_current_run"),
            **_run_fields(data),
        )


@dataclass(frozen=True)
class WorkflowRunList:
    """Every run of one workflow id, oldest first."""

    workflow_id: str
    runs: list[WorkflowRun]
    run_count: int
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Iterator[WorkflowRun]:
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkflowRunList:
        """Build from a ``GET /workflows/{id}/runs`` body."""
        workflow_id = text(data, "workflow_id")
        rows = data.get("runs")
        runs = (
            [WorkflowRun.from_dict(row, workflow_id=workflow_id) for row in rows if isinstance(row, Mapping)]
            if isinstance(rows, list)
            else []
        )
        count = opt_int(data, "run_count")
        return cls(
            workflow_id=workflow_id,
            runs=runs,
            run_count=len(runs) if count is None else count,
            raw=dict(data),
        )


@dataclass(frozen=True)
class WorkflowCommandResult:
    """Answer to a workflow command: repair, archive, pause or resume.

    Attributes:
        workflow_id: The workflow the command targeted.
        outcome: What the server did: ``repair_dispatched`` / ``repair_not_needed``,
            ``archived`` / ``archive_not_needed``, ``paused`` / ``already_paused``,
            ``resumed`` / ``not_paused`` (a refusal raises instead).
        command_status: ``accepted`` for every answer that reaches the caller.
        command_id: The server's id of the command (the first archive's on
            ``archive_not_needed``).
        run_id: The run the command acted on (the workflow's current run).
        reason: The reason the caller gave (archive, pause), else ``None``.
        raw: The whole response body, for fields not named here (``task_id``,
            ``liveness_state``, ``archived_at``, ``command_sequence``, ...).
    """

    workflow_id: str
    outcome: str | None
    command_status: str | None = None
    command_id: str | None = None
    run_id: str | None = None
    reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, workflow_id: str = "") -> WorkflowCommandResult:
        """Build from a command response body."""
        return cls(
            workflow_id=text(data, "workflow_id", workflow_id),
            outcome=opt_text(data, "outcome"),
            command_status=opt_text(data, "command_status"),
            command_id=opt_text(data, "command_id"),
            run_id=opt_text(data, "run_id"),
            reason=opt_text(data, "reason"),
            raw=dict(data),
        )
