"""The ``waiting_on`` block of a describe answer: what an open run is waiting on.

Built by :mod:`.runs.waiting` from one query over the run's open work; see docs/protocol.md
("What describe says a run waits on") for the meaning of each field.
"""

from __future__ import annotations

from typing import TypedDict


class ActivityFailure(TypedDict):
    """The failed attempt an open activity's pending retry follows."""

    attempt: int | None
    exception_class: str | None
    message: str | None
    non_retryable: bool | None
    recorded_at: str | None


class WaitingActivity(TypedDict):
    """An open activity execution of the run (``pending``: not claimed yet, ``running``: leased)."""

    activity_execution_id: str
    activity_type: str
    attempt: int
    status: str
    task_status: str | None  # ready | leased | paused; None when no task is open
    available_at: str | None  # when its task may be claimed: a retry's due time
    lease_owner: str | None  # the worker holding the current attempt (leased only)
    last_heartbeat_at: str | None  # of the current attempt (leased only)
    last_failure: ActivityFailure | None  # the latest failed attempt, once one failed


class WaitingTimer(TypedDict):
    """A pending durable timer of the run."""

    timer_id: str
    fire_at: str | None


class WaitingCondition(TypedDict):
    """An open ``ctx.wait_condition`` wait; ``timeout_at`` when it has a timeout."""

    condition_wait_id: str
    key: str | None
    timeout_seconds: int | None
    timeout_at: str | None


class WaitingChild(TypedDict):
    """An open child workflow step of the run."""

    child_workflow_id: str
    child_run_id: str | None
    child_workflow_type: str


class WaitingSignals(TypedDict):
    """Signals received and not yet applied by a workflow task, with their names in order."""

    count: int
    names: list[str]


class WaitingUpdate(TypedDict):
    """An update accepted and not yet completed."""

    update_id: str
    update_name: str


class WaitingOn(TypedDict):
    """What an open run is waiting on (every list empty for a closed run)."""

    activities: list[WaitingActivity]
    timers: list[WaitingTimer]
    condition_waits: list[WaitingCondition]
    children: list[WaitingChild]
    signals: WaitingSignals
    updates: list[WaitingUpdate]
