"""The status values each table stores, one ``StrEnum`` per table.

Members are ``str`` subclasses whose value is exactly what the database column and the wire
carry (``WorkflowTaskStatus.READY == "ready"``), so rows read back as plain strings compare
equal to them and JSON renders them unchanged.
"""

from __future__ import annotations

import sys
from enum import Enum

from durable_workflow.protocol.history import RunStatus as WireRunStatus

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - exercised on Python 3.10 only

    class StrEnum(str, Enum):
        """``enum.StrEnum`` for Python 3.10: ``str()`` and ``format()`` give the value."""

        def __str__(self) -> str:
            return str.__str__(self)

        def __format__(self, format_spec: str) -> str:
            return str.__format__(self, format_spec)


class RunStatus(StrEnum):
    """``workflow_runs.status`` (the run statuses of the protocol)."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"


# Which statuses are open or terminal is a protocol fact; these are its sets as members.
OPEN_RUN_STATUSES = frozenset(RunStatus(status) for status in WireRunStatus.OPEN)
TERMINAL_RUN_STATUSES = frozenset(RunStatus(status) for status in WireRunStatus.TERMINAL)


class WorkflowTaskStatus(StrEnum):
    """``workflow_tasks.status``."""

    READY = "ready"
    LEASED = "leased"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"  # held while its run is paused; 'ready' again on resume


class ActivityTaskStatus(StrEnum):
    """``activity_tasks.status`` (one row per try of an execution)."""

    READY = "ready"
    LEASED = "leased"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"  # held while its run is paused; 'ready' again on resume


class ActivityExecutionStatus(StrEnum):
    """``activity_executions.status`` (one row per scheduled step)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ActivityAttemptStatus(StrEnum):
    """``activity_attempts.status`` (one row per lease handed to a worker)."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class TimerStatus(StrEnum):
    """``timers.status``."""

    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"


class SignalStatus(StrEnum):
    """``signals.status``."""

    RECEIVED = "received"
    APPLIED = "applied"


class UpdateStatus(StrEnum):
    """``updates.status``."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COMPLETED = "completed"
    FAILED = "failed"


class ConditionWaitStatus(StrEnum):
    """``condition_waits.status``."""

    OPEN = "open"
    SATISFIED = "satisfied"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


class ChildLinkStatus(StrEnum):
    """``child_links.status`` (the child step as the parent sees it)."""

    OPEN = "open"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"
    TIMED_OUT = "timed_out"


class QueryTaskStatus(StrEnum):
    """``query_tasks.status``."""

    PENDING = "pending"
    LEASED = "leased"
    COMPLETED = "completed"
    FAILED = "failed"


class WorkerStatus(StrEnum):
    """``workers.status``."""

    ACTIVE = "active"
    # Its build-id cohort was drained (issue 8: task queues): it claims no new task.
    DRAINING = "draining"


class NamespaceStatus(StrEnum):
    """``namespaces.status``."""

    ACTIVE = "active"


# ---- schedules
class ScheduleStatus(StrEnum):
    """``schedules.status``."""

    ACTIVE = "active"
    PAUSED = "paused"
    DELETED = "deleted"


class ScheduleFireStatus(StrEnum):
    """``schedule_fires.status``."""

    BUFFERED = "buffered"
    STARTING = "starting"


class ScheduleFireSource(StrEnum):
    """``schedule_fires.source``: what asked for the fire."""

    SCHEDULED = "scheduled"
    TRIGGER = "trigger"
    BACKFILL = "backfill"


# ---- search attributes and the webhook bridge
class SearchAttributeType(StrEnum):
    """``search_attribute_definitions.attribute_type``: the types a search attribute may have."""

    KEYWORD = "keyword"
    TEXT = "text"
    INT = "int"
    DOUBLE = "double"
    BOOL = "bool"
    DATETIME = "datetime"
    KEYWORD_LIST = "keyword_list"


class BridgeOutcomeStatus(StrEnum):
    """``bridge_outcomes.status``."""

    PENDING = "pending"  # claimed: the event's action is running
    DONE = "done"  # ``outcome`` holds the first answer


# ---- task queues and build ids
class DrainIntent(StrEnum):
    """``task_queue_build_ids.drain_intent``."""

    ACTIVE = "active"
    DRAINING = "draining"
