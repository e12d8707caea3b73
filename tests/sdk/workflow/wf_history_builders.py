"""A tiny in-test "server" that turns workflow commands into history, the way the engine does.

Each non-terminal command consumes one workflow sequence starting at
``last_history_sequence + 1`` (how the server numbers steps), so the histories built here carry the
same non-positional sequences real histories do.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from durable_workflow.protocol import codec
from durable_workflow.workflow import (
    Command,
    RecordSideEffect,
    RecordVersionMarker,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    UpsertSearchAttributes,
)

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class HistoryBuilder:
    def __init__(self, *, start: datetime = T0, with_times: bool = True) -> None:
        self.events: list[dict[str, Any]] = []
        self.clock = start
        self.with_times = with_times
        self.open_steps: dict[int, Command] = {}
        self.add("StartAccepted", {"workflow_type": "t"})
        self.add("WorkflowStarted", {"workflow_type": "t", "timestamp": iso(start)} if with_times else {})

    def add(self, etype: str, payload: dict[str, Any]) -> dict[str, Any]:
        event: dict[str, Any] = {
            "id": f"ev-{len(self.events) + 1}",
            "sequence": len(self.events) + 1,
            "event_type": etype,
            "payload": payload,
        }
        if self.with_times:
            event["recorded_at"] = iso(self.clock)
            self.clock += timedelta(seconds=1)
        self.events.append(event)
        return event

    def apply(self, commands: list[Command]) -> list[int]:
        """Record the scheduling events of a completion; returns the step sequences."""
        seq = len(self.events) + 1
        sequences: list[int] = []
        for command in commands:
            if isinstance(command, ScheduleActivity):
                self.add(
                    "ActivityScheduled",
                    {
                        "sequence": seq,
                        "activity_type": command.activity_type,
                        "activity_execution_id": f"act-{seq}",
                    },
                )
            elif isinstance(command, StartTimer):
                self.add(
                    "TimerScheduled",
                    {"sequence": seq, "delay_seconds": command.delay_seconds, "timer_id": f"tmr-{seq}"},
                )
            elif isinstance(command, StartChildWorkflow):
                self.add(
                    "ChildWorkflowScheduled", {"sequence": seq, "child_workflow_type": command.workflow_type}
                )
            elif isinstance(command, RecordSideEffect):
                self.add(
                    "SideEffectRecorded",
                    {"sequence": seq, "result": codec.encode(command.result), "payload_codec": "avro"},
                )
            elif isinstance(command, RecordVersionMarker):
                self.add(
                    "VersionMarkerRecorded",
                    {"sequence": seq, "change_id": command.change_id, "version": command.version},
                )
            elif isinstance(command, UpsertSearchAttributes):
                self.add("SearchAttributesUpserted", {"sequence": seq, "attributes": command.attributes})
            else:
                continue
            if command.blocking:
                self.open_steps[seq] = command
            sequences.append(seq)
            seq += 1
        return sequences

    def complete_activity(self, seq: int, result: Any) -> None:
        command = self.open_steps.pop(seq)
        assert isinstance(command, ScheduleActivity)
        self.add(
            "ActivityCompleted",
            {
                "sequence": seq,
                "activity_type": command.activity_type,
                "result": codec.encode(result),
                "payload_codec": "avro",
            },
        )

    def fail_activity(self, seq: int, message: str, exception_type: str = "RuntimeError") -> None:
        command = self.open_steps.pop(seq)
        assert isinstance(command, ScheduleActivity)
        self.add(
            "ActivityFailed",
            {
                "sequence": seq,
                "activity_type": command.activity_type,
                "message": message,
                "exception_type": exception_type,
                "failure_category": "activity",
                "non_retryable": True,
            },
        )

    def fire_timer(self, seq: int) -> None:
        self.open_steps.pop(seq)
        self.add("TimerFired", {"sequence": seq, "timer_id": f"tmr-{seq}"})

    def complete_child(self, seq: int, result: Any) -> None:
        self.open_steps.pop(seq)
        self.add(
            "ChildRunCompleted", {"sequence": seq, "result": codec.encode(result), "payload_codec": "avro"}
        )

    def signal(self, name: str, args: list[Any]) -> None:
        self.add(
            "SignalReceived", {"signal_name": name, "arguments": codec.encode(args), "payload_codec": "avro"}
        )
