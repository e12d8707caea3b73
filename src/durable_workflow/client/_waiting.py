"""``WaitingOn``: what an open run is waiting on, as a describe answer reports it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._fields import mappings, opt_int, opt_text, text


@dataclass(frozen=True)
class WaitingOn:
    """The ``waiting_on`` block of a describe: every list empty for a closed run.

    Servers that do not send the block give an empty one.
    """

    @dataclass(frozen=True)
    class Activity:
        """An open activity execution (``pending``: not claimed yet; ``running``: leased)."""

        activity_execution_id: str
        activity_type: str
        attempt: int
        status: str

    @dataclass(frozen=True)
    class Timer:
        """A pending durable timer."""

        timer_id: str
        fire_at: str | None

    @dataclass(frozen=True)
    class ConditionWait:
        """An open ``ctx.wait_condition`` wait; ``timeout_at`` when it has a timeout."""

        condition_wait_id: str
        key: str | None
        timeout_seconds: int | None
        timeout_at: str | None

    @dataclass(frozen=True)
    class Child:
        """An open child workflow."""

        child_workflow_id: str
        child_run_id: str | None
        child_workflow_type: str

    @dataclass(frozen=True)
    class Update:
        """An update accepted and not yet completed."""

        update_id: str
        update_name: str

    activities: list[Activity] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    condition_waits: list[ConditionWait] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    signal_count: int = 0
    signal_names: list[str] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """True when the run waits on nothing the server tracks."""
        return not (
            self.activities
            or self.timers
            or self.condition_waits
            or self.children
            or self.signal_count
            or self.updates
        )

    @classmethod
    def from_dict(cls, data: Any) -> WaitingOn:
        """Build from a describe body's ``waiting_on`` (anything else gives an empty block)."""
        if not isinstance(data, Mapping):
            return cls()
        signals = data.get("signals")
        signals = signals if isinstance(signals, Mapping) else {}
        names = signals.get("names")
        signal_names = [str(n) for n in names] if isinstance(names, list) else []
        return cls(
            activities=[
                cls.Activity(
                    text(r, "activity_execution_id"),
                    text(r, "activity_type"),
                    opt_int(r, "attempt") or 0,
                    text(r, "status"),
                )
                for r in mappings(data, "activities")
            ],
            timers=[cls.Timer(text(r, "timer_id"), opt_text(r, "fire_at")) for r in mappings(data, "timers")],
            condition_waits=[
                cls.ConditionWait(
                    text(r, "condition_wait_id"),
                    opt_text(r, "key"),
                    opt_int(r, "timeout_seconds"),
                    opt_text(r, "timeout_at"),
                )
                for r in mappings(data, "condition_waits")
            ],
            children=[
                cls.Child(
                    text(r, "child_workflow_id"),
                    opt_text(r, "child_run_id"),
                    text(r, "child_workflow_type"),
                )
                for r in mappings(data, "children")
            ],
            signal_count=opt_int(signals, "count") or len(signal_names),
            signal_names=signal_names,
            updates=[
                cls.Update(text(r, "update_id"), text(r, "update_name")) for r in mappings(data, "updates")
            ],
        )
