"""Workflow commands: what workflow code yields, and how each one goes on the wire.

Workflow code never builds these by hand; ``WorkflowContext`` methods return them. Each class
knows its wire shape (the commands of a workflow-task completion) through
:meth:`Command.to_wire`.

Commands that occupy a *step* (a workflow sequence on the server) carry a ``step_kind``; the
replay engine matches the k-th step the code yields with the k-th step history recorded by that
kind (and name). ``blocking`` steps (activities, timers, child workflows) suspend the code until
history holds their resolution; non-blocking ones (side effects, version markers, search
attribute upserts) resolve at once.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..protocol import codec
from ..protocol import commands as wire
from ..protocol.text import replace_surrogates
from ..protocol.wire import (
    CommandBody,
    CompleteUpdateCommand,
    CompleteWorkflowCommand,
    ContinueAsNewCommand,
    FailUpdateCommand,
    FailWorkflowCommand,
    OpenConditionWaitCommand,
    RecordSideEffectCommand,
    RecordVersionMarkerCommand,
    RetryPolicyBody,
    ScheduleActivityCommand,
    StartChildWorkflowCommand,
    StartTimerCommand,
    UpsertSearchAttributesCommand,
)


def _ceil_seconds(seconds: float, what: str) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, got {type(seconds).__name__}")
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"{what} must be >= 0, got {seconds!r}")
    return math.ceil(seconds)


def _optional_timeout(value: float | None, what: str) -> int | None:
    if value is None:
        return None
    result = _ceil_seconds(value, what)
    if result < 1:
        raise ValueError(f"{what} must be at least 1 second")
    return result


# --------------------------------------------------------------------------- retry policies


@dataclass(frozen=True)
class _RetryPolicy:
    max_attempts: int = 3
    initial_interval_seconds: float = 1.0
    backoff_coefficient: float = 2.0
    maximum_interval_seconds: float | None = None
    non_retryable_error_types: Sequence[str] = ()
    backoff_seconds: Sequence[int] | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.initial_interval_seconds < 0 or self.backoff_coefficient < 1:
            raise ValueError("initial_interval_seconds must be >= 0 and backoff_coefficient >= 1")
        if self.maximum_interval_seconds is not None and self.maximum_interval_seconds < 0:
            raise ValueError("maximum_interval_seconds must be >= 0")

    def computed_backoff_seconds(self) -> list[int]:
        """Delays before attempts 2..max_attempts, in whole seconds (the server's resolution)."""
        if self.backoff_seconds is not None:
            return [int(s) for s in self.backoff_seconds]
        delays: list[int] = []
        for i in range(self.max_attempts - 1):
            delay = self.initial_interval_seconds * self.backoff_coefficient**i
            if self.maximum_interval_seconds is not None:
                delay = min(delay, self.maximum_interval_seconds)
            delays.append(math.ceil(delay))
        return delays

    def to_dict(self) -> RetryPolicyBody:
        """The wire form: ``{max_attempts, backoff_seconds, non_retryable_error_types}``."""
        return {
            "max_attempts": self.max_attempts,
            "backoff_seconds": self.computed_backoff_seconds(),
            "non_retryable_error_types": list(self.non_retryable_error_types),
        }


@dataclass(frozen=True)
class ActivityRetryPolicy(_RetryPolicy):
    """Retry budget snapped onto one activity execution when it is scheduled.

    Attributes:
        max_attempts: Total attempts including the first (>= 1).
        initial_interval_seconds: Delay before the second attempt.
        backoff_coefficient: Multiplier applied to the delay after each attempt.
        maximum_interval_seconds: Cap on any single delay (``None`` = no cap).
        non_retryable_error_types: Exception type names that fail the activity at once.
        backoff_seconds: Explicit delays, overriding the computed ones.
    """


@dataclass(frozen=True)
class ChildWorkflowRetryPolicy(_RetryPolicy):
    """Retry budget for a child workflow: a failed child run is restarted as a new run.

    Same fields as :class:`ActivityRetryPolicy`; the default is a single attempt.
    """

    max_attempts: int = 1


# --------------------------------------------------------------------------- base


class Command:
    """Base of everything workflow code may yield or return to the engine."""

    step_kind: ClassVar[str | None] = None
    blocking: ClassVar[bool] = False
    wire_type: ClassVar[str] = ""

    def step_name(self) -> str | None:
        """The name that must match the recorded step (activity type, child type, change id)."""
        return None

    def describe(self) -> str:
        """Short human description used in replay error messages."""
        name = self.step_name()
        return f"{self.wire_type} {name!r}" if name else self.wire_type

    def to_wire(self) -> CommandBody:
        """The command as the JSON object of a workflow-task completion."""
        raise NotImplementedError


def _arguments(args: Sequence[Any] | None) -> list[Any]:
    if args is None:
        return []
    if isinstance(args, (str, bytes, Mapping)) or not isinstance(args, Sequence):
        raise TypeError("arguments must be a list of positional arguments")
    return list(args)


# --------------------------------------------------------------------------- step commands


@dataclass
class ScheduleActivity(Command):
    """Run activity ``activity_type`` with positional ``arguments``; resolves to its result."""

    activity_type: str
    arguments: list[Any] = field(default_factory=list)
    task_queue: str | None = None
    retry_policy: ActivityRetryPolicy | None = None
    start_to_close_timeout: int | None = None
    schedule_to_close_timeout: int | None = None
    schedule_to_start_timeout: int | None = None
    heartbeat_timeout: int | None = None

    step_kind: ClassVar[str | None] = "activity"
    blocking: ClassVar[bool] = True
    wire_type: ClassVar[str] = wire.SCHEDULE_ACTIVITY

    def step_name(self) -> str | None:
        return self.activity_type

    def to_wire(self) -> ScheduleActivityCommand:
        out: ScheduleActivityCommand = {"type": self.wire_type, "activity_type": self.activity_type}
        if self.task_queue:
            out["queue"] = self.task_queue
        out["arguments"] = codec.envelope(self.arguments)
        if self.retry_policy is not None:
            out["retry_policy"] = self.retry_policy.to_dict()
        if self.start_to_close_timeout is not None:
            out["start_to_close_timeout"] = self.start_to_close_timeout
        if self.schedule_to_close_timeout is not None:
            out["schedule_to_close_timeout"] = self.schedule_to_close_timeout
        if self.schedule_to_start_timeout is not None:
            out["schedule_to_start_timeout"] = self.schedule_to_start_timeout
        if self.heartbeat_timeout is not None:
            out["heartbeat_timeout"] = self.heartbeat_timeout
        return out


@dataclass
class StartTimer(Command):
    """Durable sleep of ``delay_seconds`` whole seconds; resolves to ``None``."""

    delay_seconds: int

    step_kind: ClassVar[str | None] = "timer"
    blocking: ClassVar[bool] = True
    wire_type: ClassVar[str] = wire.START_TIMER

    def describe(self) -> str:
        return f"{self.wire_type}({self.delay_seconds}s)"

    def to_wire(self) -> StartTimerCommand:
        return {"type": self.wire_type, "delay_seconds": self.delay_seconds}


@dataclass
class StartChildWorkflow(Command):
    """Start child workflow ``workflow_type``; resolves to the child's result."""

    workflow_type: str
    arguments: list[Any] = field(default_factory=list)
    task_queue: str | None = None
    parent_close_policy: str | None = None
    retry_policy: ChildWorkflowRetryPolicy | None = None
    execution_timeout_seconds: int | None = None
    run_timeout_seconds: int | None = None

    step_kind: ClassVar[str | None] = "child_workflow"
    blocking: ClassVar[bool] = True
    wire_type: ClassVar[str] = wire.START_CHILD_WORKFLOW

    def step_name(self) -> str | None:
        return self.workflow_type

    def to_wire(self) -> StartChildWorkflowCommand:
        out: StartChildWorkflowCommand = {"type": self.wire_type, "workflow_type": self.workflow_type}
        if self.task_queue:
            out["queue"] = self.task_queue
        out["arguments"] = codec.envelope(self.arguments)
        if self.parent_close_policy is not None:
            out["parent_close_policy"] = self.parent_close_policy
        if self.retry_policy is not None:
            out["retry_policy"] = self.retry_policy.to_dict()
        if self.execution_timeout_seconds is not None:
            out["execution_timeout_seconds"] = self.execution_timeout_seconds
        if self.run_timeout_seconds is not None:
            out["run_timeout_seconds"] = self.run_timeout_seconds
        return out


_UNSET: Any = object()


@dataclass
class RecordSideEffect(Command):
    """Capture a non-deterministic value once; replays return the recorded value.

    ``fn`` is called only when history has no recorded value for this step, so the captured
    work really happens once per run.
    """

    fn: Callable[[], Any] | None = field(default=None, compare=False, repr=False)
    result: Any = _UNSET

    step_kind: ClassVar[str | None] = "side_effect"
    wire_type: ClassVar[str] = wire.RECORD_SIDE_EFFECT

    def to_wire(self) -> RecordSideEffectCommand:
        if self.result is _UNSET:
            raise RuntimeError("side effect has no value yet")
        return {"type": self.wire_type, "result": codec.envelope(self.result)}


@dataclass
class RecordVersionMarker(Command):
    """Record which version of a code change this run follows (``ctx.get_version``)."""

    change_id: str
    version: int
    min_supported: int
    max_supported: int

    step_kind: ClassVar[str | None] = "version_marker"
    wire_type: ClassVar[str] = wire.RECORD_VERSION_MARKER

    def step_name(self) -> str | None:
        return self.change_id

    def to_wire(self) -> RecordVersionMarkerCommand:
        return {
            "type": self.wire_type,
            "change_id": self.change_id,
            "version": self.version,
            "min_supported": self.min_supported,
            "max_supported": self.max_supported,
        }


@dataclass
class UpsertSearchAttributes(Command):
    """Merge ``attributes`` into the run's search attributes (``None`` deletes a key)."""

    attributes: dict[str, Any]

    step_kind: ClassVar[str | None] = "search_attributes"
    wire_type: ClassVar[str] = wire.UPSERT_SEARCH_ATTRIBUTES

    def to_wire(self) -> UpsertSearchAttributesCommand:
        return {"type": self.wire_type, "attributes": dict(self.attributes)}


def predicate_fingerprint(predicate: Callable[[], Any]) -> str:
    """A stable identity of a wait predicate: its qualified name and the names it reads.

    Deliberately not the bytecode (which changes between Python versions) nor the source text
    (which changes with formatting): a worker upgrade must not make old runs non-deterministic.
    """
    code = getattr(predicate, "__code__", None)
    names = ",".join(code.co_names) if code is not None else ""
    qualname = getattr(predicate, "__qualname__", type(predicate).__qualname__)
    digest = hashlib.sha256(f"{qualname}|{names}".encode()).hexdigest()
    return f"sha256:{digest}"


@dataclass
class WaitCondition(Command):
    """Suspend until ``predicate()`` is true (``ctx.wait_condition``); resolves to ``True``,
    or ``False`` when ``timeout_seconds`` elapsed first.

    A wait whose predicate already holds when the code reaches it records nothing. A wait that
    blocks is a step (``open_condition_wait`` → ``ConditionWaitOpened``); ``condition_key``
    identifies it across code changes, the predicate fingerprint only when no key is given.
    """

    predicate: Callable[[], Any] | None = field(default=None, compare=False, repr=False)
    condition_key: str | None = None
    fingerprint: str = ""
    timeout_seconds: int | None = None
    # Set by the replay when this yield re-sends a wait history already opened (see _replay).
    condition_wait_id: str | None = field(default=None, compare=False)

    step_kind: ClassVar[str | None] = "condition_wait"
    blocking: ClassVar[bool] = True
    wire_type: ClassVar[str] = wire.OPEN_CONDITION_WAIT

    def step_name(self) -> str | None:
        return self.condition_key

    def describe(self) -> str:
        what = f"{self.wire_type} {self.condition_key!r}" if self.condition_key else self.wire_type
        return f"{what} (timeout {self.timeout_seconds}s)" if self.timeout_seconds is not None else what

    def to_wire(self) -> OpenConditionWaitCommand:
        out: OpenConditionWaitCommand = {"type": self.wire_type}
        if self.condition_key:
            out["condition_key"] = self.condition_key
        out["condition_definition_fingerprint"] = self.fingerprint
        if self.timeout_seconds is not None:
            out["timeout_seconds"] = self.timeout_seconds
        if self.condition_wait_id:
            out["condition_wait_id"] = self.condition_wait_id
        return out


# --------------------------------------------------------------------------- update answers


@dataclass
class CompleteUpdate(Command):
    """Answer an accepted update with the handler's result."""

    update_id: str
    result: Any = None

    wire_type: ClassVar[str] = wire.COMPLETE_UPDATE

    def to_wire(self) -> CompleteUpdateCommand:
        return {"type": self.wire_type, "update_id": self.update_id, "result": codec.envelope(self.result)}


@dataclass
class FailUpdate(Command):
    """Answer an accepted update with a failure (validator refused it, or the handler raised)."""

    update_id: str
    message: str
    exception_type: str | None = None
    non_retryable: bool = True

    wire_type: ClassVar[str] = wire.FAIL_UPDATE

    def to_wire(self) -> FailUpdateCommand:
        out: FailUpdateCommand = {
            "type": self.wire_type,
            "update_id": self.update_id,
            "message": replace_surrogates(self.message),
        }
        if self.exception_type:
            out["exception_type"] = replace_surrogates(self.exception_type)
            out["exception_class"] = out["exception_type"]
        out["non_retryable"] = self.non_retryable
        return out


# --------------------------------------------------------------------------- terminal commands


@dataclass
class CompleteWorkflow(Command):
    """Close the run as completed with ``result``."""

    result: Any = None

    wire_type: ClassVar[str] = wire.COMPLETE_WORKFLOW

    def to_wire(self) -> CompleteWorkflowCommand:
        return {"type": self.wire_type, "result": codec.envelope(self.result)}


@dataclass
class FailWorkflow(Command):
    """Close the run as failed (the workflow code raised)."""

    message: str
    exception_type: str | None = None
    non_retryable: bool = False

    wire_type: ClassVar[str] = wire.FAIL_WORKFLOW

    def to_wire(self) -> FailWorkflowCommand:
        out: FailWorkflowCommand = {"type": self.wire_type, "message": replace_surrogates(self.message)}
        if self.exception_type:
            out["exception_type"] = replace_surrogates(self.exception_type)
        if self.non_retryable:
            out["non_retryable"] = True
        return out


class ContinueAsNew(Command):
    """Close this run and start a fresh one of the same workflow id with new input.

    Return it (or ``ctx.continue_as_new(...)``) from ``run``::

        return ContinueAsNew(arguments=[iteration + 1])
    """

    wire_type: ClassVar[str] = wire.CONTINUE_AS_NEW

    def __init__(
        self,
        *args: Any,
        arguments: Sequence[Any] | None = None,
        workflow_type: str | None = None,
        task_queue: str | None = None,
    ) -> None:
        if args and arguments is not None:
            raise TypeError("pass either positional arguments or arguments=[...], not both")
        self.arguments: list[Any] = list(args) if args else _arguments(arguments)
        self.workflow_type = workflow_type
        self.task_queue = task_queue

    def __repr__(self) -> str:
        return (
            f"ContinueAsNew(arguments={self.arguments!r}, workflow_type={self.workflow_type!r}, "
            f"task_queue={self.task_queue!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContinueAsNew):
            return NotImplemented
        return (self.arguments, self.workflow_type, self.task_queue) == (
            other.arguments,
            other.workflow_type,
            other.task_queue,
        )

    __hash__ = None  # type: ignore[assignment]

    def to_wire(self) -> ContinueAsNewCommand:
        out: ContinueAsNewCommand = {"type": self.wire_type, "arguments": codec.envelope(self.arguments)}
        if self.workflow_type:
            out["workflow_type"] = self.workflow_type
        if self.task_queue:
            out["queue"] = self.task_queue
        return out


TERMINAL_COMMANDS = (CompleteWorkflow, FailWorkflow, ContinueAsNew)


def commands_to_wire(commands: Sequence[Command]) -> list[CommandBody]:
    """Turn replay output into the ``commands`` array of a workflow-task completion."""
    return [command.to_wire() for command in commands]


__all__ = [
    "TERMINAL_COMMANDS",
    "ActivityRetryPolicy",
    "ChildWorkflowRetryPolicy",
    "Command",
    "CompleteUpdate",
    "CompleteWorkflow",
    "ContinueAsNew",
    "FailUpdate",
    "FailWorkflow",
    "RecordSideEffect",
    "RecordVersionMarker",
    "ScheduleActivity",
    "StartChildWorkflow",
    "StartTimer",
    "UpsertSearchAttributes",
    "WaitCondition",
    "commands_to_wire",
    "predicate_fingerprint",
]
