"""``WaitingOn``: what an open run is waiting on, as a describe answer reports it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._wire import _opt_int, _opt_text, _text


def _rows(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key)
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []


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
                    _text(r, "activity_execution_id"),
                    _text(r, "activity_type"),
                    _opt_int(r, "attempt") or 0,
                    _text(r, "status"),
                )
                for r in _rows(data, "activities")
            ],
            timers=[cls.Timer(_text(r, "timer_id"), _opt_text(r, "fire_at")) for r in _rows(data, "timers")],
            condition_waits=[
                cls.ConditionWait(
                    _text(r, "condition_wait_id"),
                    _opt_text(r, "key"),
                    _opt_int(r, "timeout_seconds"),
                    _opt_text(r, "timeout_at"),
                )
                for r in _rows(data, "condition_waits")
            ],
            children=[
                cls.Child(
                    _text(r, "child_workflow_id"),
                    _opt_text(r, "child_run_id"),
                    _text(r, "child_workflow_type"),
                )
                for r in _rows(data, "children")
            ],
            signal_count=_opt_int(signals, "count") or len(signal_names),
            signal_names=signal_names,
            updates=[
                cls.Update(_text(r, "update_id"), _text(r, "update_name")) for r in _rows(data, "updates")
            ],
        )
