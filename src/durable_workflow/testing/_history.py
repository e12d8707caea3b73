"""An in-memory run history written the way the server writes it.

The harness records what a server would: every non-terminal command gets a workflow sequence
starting at ``last history sequence + 1`` (how the server numbers steps), values travel as Avro
envelopes, and events carry times from a logical clock that only timers move. Histories built
here therefore replay through the very same matching the worker uses on server histories, and
can be saved and replayed later with :func:`replay_history`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..protocol import codec
from ..protocol.history import EventType as E
from ..workflow import (
    Command,
    CompleteUpdate,
    CompleteWorkflow,
    ContinueAsNew,
    FailUpdate,
    FailWorkflow,
    RecordSideEffect,
    RecordVersionMarker,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    UpsertSearchAttributes,
    WaitCondition,
)


def iso(moment: datetime) -> str:
    """RFC 3339 with microseconds and ``Z``, as the server writes times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class OpenStep:
    """A blocking step the harness still has to resolve."""

    sequence: int
    command: Command
    wait_id: str = ""


@dataclass
class RunHistory:
    """The events of one run, plus what the harness needs to keep writing them."""

    workflow_type: str
    run_id: str
    workflow_id: str
    clock: datetime
    events: list[dict[str, Any]] = field(default_factory=list)
    open_steps: list[OpenStep] = field(default_factory=list)
    search_attributes: dict[str, Any] = field(default_factory=dict)

    def add(self, etype: str, payload: dict[str, Any]) -> dict[str, Any]:
        event: dict[str, Any] = {
            "id": f"{self.run_id}-{len(self.events) + 1}",
            "sequence": len(self.events) + 1,
            "event_type": etype,
            "recorded_at": iso(self.clock),
            "payload": payload,
        }
        self.events.append(event)
        return event

    def start(self, arguments: list[Any]) -> None:
        self.add(
            E.WORKFLOW_STARTED,
            {
                "timestamp": iso(self.clock),
                "workflow_type": self.workflow_type,
                "workflow_instance_id": self.workflow_id,
                "workflow_run_id": self.run_id,
                "arguments": codec.envelope(arguments),
                "payload_codec": codec.AVRO,
            },
        )

    # -- recording commands -----------------------------------------------------------------

    def record(self, commands: list[Command]) -> None:
        """Write the events of one completion's non-terminal commands."""
        seq = len(self.events) + 1
        for command in commands:
            self._record_one(command, seq)
            seq += 1

    def _record_one(self, command: Command, seq: int) -> None:
        if isinstance(command, ScheduleActivity):
            self.add(
                E.ACTIVITY_SCHEDULED,
                {
                    "sequence": seq,
                    "activity_type": command.activity_type,
                    "activity_execution_id": f"act-{seq}",
                    "arguments": codec.encode(command.arguments),
                    "payload_codec": codec.AVRO,
                },
            )
            self.open_steps.append(OpenStep(seq, command))
        elif isinstance(command, StartTimer):
            payload = {"sequence": seq, "timer_id": f"timer-{seq}", "delay_seconds": command.delay_seconds}
            self.add(E.TIMER_SCHEDULED, payload)
            self.open_steps.append(OpenStep(seq, command))
        elif isinstance(command, StartChildWorkflow):
            link = {
                "sequence": seq,
                "child_workflow_type": command.workflow_type,
                "workflow_link_id": f"link-{seq}",
            }
            # As the server records it: the step, then its child's first run.
            self.add(E.CHILD_WORKFLOW_SCHEDULED, dict(link))
            self.add(E.CHILD_RUN_STARTED, {**link, "child_run_number": 1, "retry_attempt": 1})
            self.open_steps.append(OpenStep(seq, command))
        elif isinstance(command, RecordSideEffect):
            self.add(
                E.SIDE_EFFECT_RECORDED,
                {"sequence": seq, "result": codec.encode(command.result), "payload_codec": codec.AVRO},
            )
        elif isinstance(command, RecordVersionMarker):
            marker = {k: v for k, v in command.to_wire().items() if k != "type"}
            self.add(E.VERSION_MARKER_RECORDED, {"sequence": seq, **marker})
        elif isinstance(command, UpsertSearchAttributes):
            for key, value in command.attributes.items():
                if value is None:
                    self.search_attributes.pop(key, None)
                else:
                    self.search_attributes[key] = value
            self.add(
                E.SEARCH_ATTRIBUTES_UPSERTED,
                {
                    "sequence": seq,
                    "attributes": dict(command.attributes),
                    "merged": dict(self.search_attributes),
                },
            )
        elif isinstance(command, WaitCondition):
            wait_id = f"wait-{seq}"
            base = {
                "sequence": seq,
                "condition_wait_id": wait_id,
                "condition_key": command.condition_key,
                "condition_definition_fingerprint": command.fingerprint,
                "timeout_seconds": command.timeout_seconds,
            }
            self.add(E.CONDITION_WAIT_OPENED, base)
            if command.timeout_seconds:
                self.add(
                    E.TIMER_SCHEDULED,
                    {**base, "timer_id": f"timer-{seq}", "timer_kind": "condition_timeout"},
                )
            self.open_steps.append(OpenStep(seq, command, wait_id))
        else:  # pragma: no cover - every step command is listed above
            raise TypeError(f"unsupported command in test harness: {command!r}")

    # -- resolutions --------------------------------------------------------------------------

    def open_wait(self) -> OpenStep | None:
        return next((s for s in self.open_steps if isinstance(s.command, WaitCondition)), None)

    def close(self, step: OpenStep) -> None:
        self.open_steps.remove(step)

    def wait_satisfied(self, step: OpenStep) -> None:
        """The code got past an open wait because a message made its predicate true."""
        assert isinstance(step.command, WaitCondition)
        self.close(step)
        ids = {"sequence": step.sequence, "condition_wait_id": step.wait_id}
        self.add(E.CONDITION_WAIT_SATISFIED, {**ids, "condition_key": step.command.condition_key})
        if step.command.timeout_seconds:
            self.add(
                E.TIMER_CANCELLED,
                {**ids, "timer_id": f"timer-{step.sequence}", "timer_kind": "condition_timeout"},
            )

    def wait_timed_out(self, step: OpenStep) -> None:
        assert isinstance(step.command, WaitCondition) and step.command.timeout_seconds is not None
        self.close(step)
        self.clock += timedelta(seconds=step.command.timeout_seconds)
        self.add(
            E.TIMER_FIRED,
            {
                "sequence": step.sequence,
                "timer_id": f"timer-{step.sequence}",
                "timer_kind": "condition_timeout",
                "condition_wait_id": step.wait_id,
                "condition_key": step.command.condition_key,
            },
        )

    def timer_fired(self, step: OpenStep) -> None:
        assert isinstance(step.command, StartTimer)
        self.close(step)
        self.add(E.TIMER_FIRED, {"sequence": step.sequence, "timer_id": f"timer-{step.sequence}"})

    def completed(self, step: OpenStep, result: Any) -> None:
        self.close(step)
        blob = codec.encode(result)
        if isinstance(step.command, ScheduleActivity):
            payload = {"sequence": step.sequence, "activity_type": step.command.activity_type}
            self.add(E.ACTIVITY_COMPLETED, {**payload, "result": blob, "payload_codec": codec.AVRO})
        else:
            self.add(
                E.CHILD_RUN_COMPLETED,
                {"sequence": step.sequence, "result": blob, "output": blob, "payload_codec": codec.AVRO},
            )

    def failed(self, step: OpenStep, error: BaseException) -> None:
        self.close(step)
        failure = {
            "sequence": step.sequence,
            "message": str(error) or type(error).__name__,
            "exception_type": type(error).__name__,
            "exception_class": type(error).__name__,
            "non_retryable": True,
        }
        if isinstance(step.command, ScheduleActivity):
            failure.update(activity_type=step.command.activity_type, failure_category="activity")
            self.add(E.ACTIVITY_FAILED, failure)
        else:
            self.add(E.CHILD_RUN_FAILED, {**failure, "failure_category": "child_workflow"})

    # -- messages -----------------------------------------------------------------------------

    def signal(self, name: str, args: list[Any]) -> None:
        self.add(
            E.SIGNAL_RECEIVED,
            {
                "signal_name": name,
                "signal_id": f"sig-{len(self.events) + 1}",
                "arguments": codec.encode(args),
                "payload_codec": codec.AVRO,
            },
        )

    def update_accepted(self, update_id: str, name: str, args: list[Any]) -> None:
        self.add(
            E.UPDATE_ACCEPTED,
            {
                "update_id": update_id,
                "update_name": name,
                "arguments": codec.encode(args),
                "payload_codec": codec.AVRO,
            },
        )

    def update_answered(self, update_id: str, name: str, args: list[Any], answer: Command) -> None:
        seq = len(self.events) + 1
        base = {"sequence": seq, "update_id": update_id, "update_name": name}
        if isinstance(answer, CompleteUpdate):
            self.add(E.UPDATE_APPLIED, {**base, "arguments": codec.encode(args), "payload_codec": codec.AVRO})
            self.add(
                E.UPDATE_COMPLETED,
                {**base, "result": codec.encode(answer.result), "payload_codec": codec.AVRO},
            )
        elif isinstance(answer, FailUpdate):
            wire = answer.to_wire()
            self.add(
                E.UPDATE_COMPLETED,
                {
                    **base,
                    "failure_category": "application",
                    "message": wire["message"],
                    "exception_type": wire.get("exception_type"),
                },
            )
        else:
            raise TypeError(f"an update is answered with complete_update or fail_update, not {answer!r}")

    # -- terminal -----------------------------------------------------------------------------

    def terminal(self, command: Command, next_run_id: str | None = None) -> None:
        if isinstance(command, CompleteWorkflow):
            blob = codec.encode(command.result)
            self.add(E.WORKFLOW_COMPLETED, {"output": blob, "payload_codec": codec.AVRO})
        elif isinstance(command, FailWorkflow):
            self.add(
                E.WORKFLOW_FAILED,
                {
                    "message": command.message,
                    "exception_type": command.exception_type,
                    "exception_class": command.exception_type,
                    "failure_category": "application",
                    "non_retryable": command.non_retryable,
                },
            )
        elif isinstance(command, ContinueAsNew):
            self.add(
                E.WORKFLOW_CONTINUED_AS_NEW,
                {
                    "sequence": len(self.events) + 1,
                    "arguments": codec.encode(command.arguments),
                    "payload_codec": codec.AVRO,
                    "workflow_type": command.workflow_type or self.workflow_type,
                    "continued_to_run_id": next_run_id,
                    "closed_reason": "continued",
                },
            )
