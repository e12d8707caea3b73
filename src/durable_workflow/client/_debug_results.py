"""The answer of ``Client.debug_workflow`` (``GET /workflows/{id}[/runs/{run_id}]/debug``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._fields import mapping, mappings, opt_bool, opt_text, text

__all__ = ["DebugFinding", "WorkflowDebugView"]


@dataclass(frozen=True)
class DebugFinding:
    """One reason the server gives for a run's diagnostic status (``severity``: error, warning, info)."""

    severity: str
    code: str
    message: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DebugFinding:
        return cls(severity=text(data, "severity"), code=text(data, "code"), message=text(data, "message"))


@dataclass(frozen=True)
class WorkflowDebugView:
    """A run's debug view: its diagnostic status and the headline facts of its execution.

    ``diagnostic_status`` is one of ``terminal``, ``needs_attention``, ``queue_backlog``,
    ``pending_work``, ``running``, ``waiting``. The whole body (pending workflow tasks and
    activities, the task queue's facts, recent failures, last and next events) is in ``raw``;
    fields a server leaves out are ``None`` or empty.
    """

    workflow_id: str
    run_id: str
    diagnostic_status: str
    namespace: str | None = None
    status: str | None = None
    workflow_type: str | None = None
    task_queue: str | None = None
    is_terminal: bool | None = None
    wait_kind: str | None = None
    wait_reason: str | None = None
    findings: tuple[DebugFinding, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def needs_attention(self) -> bool:
        return self.diagnostic_status == "needs_attention"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkflowDebugView:
        execution = mapping(data, "execution")
        return cls(
            workflow_id=text(data, "workflow_id"),
            run_id=text(data, "run_id"),
            diagnostic_status=text(data, "diagnostic_status"),
            namespace=opt_text(data, "namespace"),
            status=opt_text(execution, "status"),
            workflow_type=opt_text(execution, "workflow_type"),
            task_queue=opt_text(execution, "task_queue"),
            is_terminal=opt_bool(execution, "is_terminal"),
            wait_kind=opt_text(execution, "wait_kind"),
            wait_reason=opt_text(execution, "wait_reason"),
            findings=tuple(DebugFinding.from_dict(item) for item in mappings(data, "findings")),
            raw=dict(data),
        )
