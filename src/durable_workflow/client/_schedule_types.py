"""What a schedule is made of on the way in: :class:`ScheduleSpec` (when) and :class:`ScheduleAction` (what).

Both are plain dataclasses; the client methods also take the same shapes as mappings (the
contract fixtures pass dicts). ``ScheduleAction.input`` travels as one Avro envelope, like a
workflow start's ``input``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ScheduleAction", "ScheduleSpec"]


@dataclass(frozen=True)
class ScheduleSpec:
    """When a schedule fires: the union of its rules, the earliest next time first.

    Attributes:
        cron_expressions: Standard 5-field cron expressions (``"0 * * * *"``), evaluated in
            ``timezone``.
        intervals: Fixed intervals as ``{"every": "PT30M", "offset": "PT5M"}`` (ISO-8601
            durations, counted from the Unix epoch).
        timezone: IANA time zone of the cron expressions (``"Europe/Paris"``); the server's
            default is UTC.
    """

    cron_expressions: list[str] = field(default_factory=list)
    intervals: list[dict[str, str]] = field(default_factory=list)
    timezone: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The request body form: only the rules given (and the time zone, when set)."""
        body: dict[str, Any] = {}
        if self.cron_expressions:
            body["cron_expressions"] = list(self.cron_expressions)
        if self.intervals:
            body["intervals"] = [dict(interval) for interval in self.intervals]
        if self.timezone is not None:
            body["timezone"] = self.timezone
        return body

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleSpec:
        """Build from a request or response ``spec`` object (unknown keys are ignored)."""
        crons = data.get("cron_expressions")
        intervals = data.get("intervals")
        zone = data.get("timezone")
        return cls(
            cron_expressions=[str(c) for c in crons] if isinstance(crons, list) else [],
            intervals=[{str(k): str(v) for k, v in i.items()} for i in intervals if isinstance(i, Mapping)]
            if isinstance(intervals, list)
            else [],
            timezone=zone if isinstance(zone, str) else None,
        )


@dataclass(frozen=True)
class ScheduleAction:
    """The workflow start a schedule makes each time it fires.

    Attributes:
        workflow_type: The workflow type to start (required when creating a schedule).
        task_queue: The queue of the started workflow's tasks (the server's default when ``None``).
        input: Positional arguments of the workflow, sent as one Avro envelope (a client with
            ``plain_json_payloads`` also sends a mapping as it is, like ``dw`` does).
        execution_timeout_seconds: Bound on each started workflow (all its runs).
        run_timeout_seconds: Bound on each run.
    """

    workflow_type: str
    task_queue: str | None = None
    input: Sequence[Any] | Mapping[str, Any] | None = None
    execution_timeout_seconds: int | None = None
    run_timeout_seconds: int | None = None

    def to_body(self, encode: Callable[[Any], Any]) -> dict[str, Any]:
        """The request body form, ``input`` encoded by ``encode``; ``None`` fields are left out.

        An empty ``workflow_type`` is left out too, so an update can change other keys only.
        """
        body: dict[str, Any] = {}
        if self.workflow_type:
            body["workflow_type"] = self.workflow_type
        if self.task_queue is not None:
            body["task_queue"] = self.task_queue
        if self.input is not None:
            if isinstance(self.input, (str, bytes)):
                raise TypeError("ScheduleAction.input must be a list of positional arguments")
            # ``encode`` decides about a mapping (the client takes one only with plain JSON payloads).
            body["input"] = encode(dict(self.input) if isinstance(self.input, Mapping) else list(self.input))
        if self.execution_timeout_seconds is not None:
            body["execution_timeout_seconds"] = self.execution_timeout_seconds
        if self.run_timeout_seconds is not None:
            body["run_timeout_seconds"] = self.run_timeout_seconds
        return body

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ScheduleAction:
        """Build from a mapping with the same keys (as the contract fixtures pass it)."""
        unknown = set(data) - {
            "workflow_type",
            "task_queue",
            "input",
            "execution_timeout_seconds",
            "run_timeout_seconds",
        }
        if unknown:
            raise TypeError(f"unknown ScheduleAction keys: {', '.join(sorted(unknown))}")
        return cls(
            workflow_type=str(data.get("workflow_type") or ""),
            task_queue=data.get("task_queue"),
            input=data.get("input"),
            execution_timeout_seconds=data.get("execution_timeout_seconds"),
            run_timeout_seconds=data.get("run_timeout_seconds"),
        )
