"""The replay engine: history + workflow code → the commands the code wants next.

A pure function over data (no I/O, no asyncio, no clock reads while history holds a time), so
the worker, the test harness (:mod:`durable_workflow.testing`) and the replayer all drive the
same code.

How a replay goes:

1. :func:`recorded_steps` turns history into the ordered list of steps the code scheduled
   before, each paired with its resolution **by identity** (workflow sequence, condition-wait
   id; position only for histories that carry none).
2. The workflow generator runs. The k-th step it yields must be the k-th recorded step (same
   kind, same activity/child type, same change id, same condition key); otherwise the replay
   stops with a :class:`NonDeterministicReplayError` that says what history holds, what the
   code yields now, and on which line.
3. A yield whose steps are all resolved gets the recorded values (failures are thrown into the
   code); a yield with an unresolved step blocks, and the replay ends there. Steps history has
   not seen yet become the output commands.
4. Signals and applied updates (*receivers*) run their handlers in history order, each at the
   first point where the code observes something history recorded after it, so every replay
   applies them at the same place.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import (
    ActivityFailed,
    ChildWorkflowCancelled,
    ChildWorkflowFailed,
    ChildWorkflowTerminated,
    NonDeterministicReplayError,
    NonRetryableError,
    PayloadError,
)
from ..protocol.codec import PayloadCodecError
from ..protocol.history import EventType as E
from ._commands import (
    Command,
    CompleteWorkflow,
    ContinueAsNew,
    FailWorkflow,
    RecordSideEffect,
    RecordVersionMarker,
    WaitCondition,
)
from ._context import WorkflowContext
from ._definition import WorkflowDefinition, get_definition
from ._diagnostics import UNKNOWN_SITE, YieldSite, blocked_early, step_mismatch, unconsumed, yield_site
from ._history_compat import (
    RecordedStep,
    decode_value,
    event_payload,
    event_time,
    event_type,
    recorded_steps,
    start_time,
)
from ._receivers import Receiver, answer_update, apply_receiver, as_args, collect_receivers

_NEVER = math.inf


@dataclass
class ReplayOutcome:
    """What a replay produced.

    Attributes:
        commands: The commands the workflow emits next (new steps, then at most one terminal
            command). Never empty for a workflow that is blocked or finished.
        workflow_instance: The workflow object after replay (``None`` for function
            workflows); query handlers read their state from it.
    """

    commands: list[Command] = field(default_factory=list)
    workflow_instance: Any = None

    @property
    def terminal(self) -> Command | None:
        """The terminal command, if the workflow finished in this replay."""
        if self.commands and isinstance(self.commands[-1], (CompleteWorkflow, FailWorkflow, ContinueAsNew)):
            return self.commands[-1]
        return None


@dataclass
class _Signal:
    index: int
    name: str
    args: list[Any]


def _as_args(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _yield_location(gen: Any) -> str:
    """``file:line`` of the innermost ``yield`` the generator is suspended at."""
    while inspect.isgenerator(getattr(gen, "gi_yieldfrom", None)):
        gen = gen.gi_yieldfrom
    frame = getattr(gen, "gi_frame", None)
    if frame is None:
        return "<unknown location>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _close(gen: Any) -> None:
    """Finish a suspended generator; its ``finally`` blocks must not break the replay."""
    try:
        gen.close()
    except Exception:
        pass


def _failure_message(payload: Mapping[str, Any], default: str) -> str:
    exc = payload.get("exception")
    exc_message = exc.get("message") if isinstance(exc, Mapping) else None
    return str(payload.get("message") or exc_message or payload.get("closed_reason") or default)


class _Engine:
    def __init__(
        self,
        definition: WorkflowDefinition,
        events: Sequence[Mapping[str, Any]],
        ctx: WorkflowContext,
        payload_codec: str | None,
    ) -> None:
        self.definition = definition
        self.events = events
        self.ctx = ctx
        self.codec = payload_codec
        self.steps = recorded_steps(events)
        self.signals = self._collect_signals()
        self.cursor = 0
        self.new_commands: list[Command] = []
        self.blocking_group: list[Command] = []  # the step commands of the latest yield
        self.instance = definition.new_instance()

    # -- history helpers --------------------------------------------------------------------

    def _collect_signals(self) -> list[_Signal]:
        signals: list[_Signal] = []
        for index, event in enumerate(self.events):
            if event_type(event) != E.SIGNAL_RECEIVED:
                continue
            payload = event_payload(event)
            name = payload.get("signal_name")
            if not name:
                continue
            keys = ("value", "input", "arguments")
            raw = next((payload[k] for k in keys if payload.get(k) is not None), None)
            signals.append(_Signal(index, str(name), _as_args(decode_value(raw, payload, self.codec))))
        return signals

    def _apply_signals(self, before: float) -> None:
        """Run handlers of signals recorded before history position ``before``.

        A signal is applied at the yield the code was waiting on when the signal arrived: the
        first yield whose result history recorded after the signal. That point depends only on
        history, so every replay applies each signal at the same place.
        """
        while self.signals and self.signals[0].index < before:
            sig = self.signals.pop(0)
            attr = self.definition.signals.get(sig.name)
            if attr is None or self.instance is None:
                continue  # unknown signals are ignored, as the reference SDK does
            getattr(self.instance, attr)(*sig.args)

    def _set_replaying(self) -> None:
        self.ctx._replaying = self.cursor < len(self.steps)

    # -- determinism ------------------------------------------------------------------------

    def _check(self, cmd: Command, recorded: RecordedStep, k: int, location: str) -> None:
        name = cmd.step_name()
        same_name = name is None or recorded.name is None or name == recorded.name
        if cmd.step_kind == recorded.kind and same_name:
            return
        raise NonDeterministicReplayError(
            f"workflow {self.definition.name!r} (run {self.ctx.run_id or '?'}) is not deterministic "
            f"at step #{k + 1}: history recorded {recorded.describe()}, but the code now yields "
            f"{cmd.describe()} at {location}. Workflow code must yield the same steps in the same "
            f"order on every replay; guard changed code with ctx.get_version(...) or deploy it "
            f"under a new workflow type."
        )

    def _unconsumed_error(self, where: str) -> NonDeterministicReplayError:
        remaining = self.steps[self.cursor :]
        listed = ", ".join(step.describe() for step in remaining[:5])
        more = f" and {len(remaining) - 5} more" if len(remaining) > 5 else ""
        return NonDeterministicReplayError(
            f"workflow {self.definition.name!r} (run {self.ctx.run_id or '?'}) {where} after "
            f"{self.cursor} step(s), but history recorded {len(remaining)} more: {listed}{more}. "
            f"The workflow code no longer schedules steps it scheduled when this history was written."
        )

    # -- resolution -------------------------------------------------------------------------

    def _resolved_value(self, cmd: Command, step: RecordedStep) -> tuple[Any, BaseException | None]:
        event = step.resolution
        assert event is not None
        etype = event_type(event)
        payload = event_payload(event)
        if etype == E.ACTIVITY_COMPLETED:
            raw = payload.get("result") if payload.get("result") is not None else payload.get("output")
            return decode_value(raw, payload, self.codec), None
        if etype in (E.ACTIVITY_FAILED, E.ACTIVITY_TIMED_OUT, E.ACTIVITY_CANCELLED):
            default = {E.ACTIVITY_TIMED_OUT: "activity timed out", E.ACTIVITY_CANCELLED: "activity cancelled"}
            category = payload.get("failure_category") or (
                "timeout"
                if etype == E.ACTIVITY_TIMED_OUT
                else "cancelled"
                if etype == E.ACTIVITY_CANCELLED
                else None
            )
            return None, ActivityFailed(
                _failure_message(payload, default.get(etype, "activity failed")),
                activity_type=step.name,
                exception_type=payload.get("exception_type"),
                exception_class=payload.get("exception_class"),
                failure_category=category,
                non_retryable=bool(payload.get("non_retryable")),
            )
        if etype == E.CHILD_RUN_COMPLETED:
            raw = payload.get("result") if payload.get("result") is not None else payload.get("output")
            return decode_value(raw, payload, self.codec), None
        if etype in (E.CHILD_RUN_FAILED, E.CHILD_RUN_CANCELLED, E.CHILD_RUN_TERMINATED):
            cls: type[ChildWorkflowFailed] = {
                E.CHILD_RUN_FAILED: ChildWorkflowFailed,
                E.CHILD_RUN_CANCELLED: ChildWorkflowCancelled,
                E.CHILD_RUN_TERMINATED: ChildWorkflowTerminated,
            }[etype]
            return None, cls(
                _failure_message(payload, "child workflow failed"),
                workflow_type=step.name,
                exception_type=payload.get("exception_type"),
                exception_class=payload.get("exception_class"),
                failure_category=payload.get("failure_category"),
            )
        if etype == E.SIDE_EFFECT_RECORDED:
            value = decode_value(payload.get("result"), payload, self.codec)
            if isinstance(cmd, RecordSideEffect):
                cmd.result = value  # so a re-emitted group can still be put on the wire
            return value, None
        if etype == E.VERSION_MARKER_RECORDED:
            version = payload.get("version", 0)
            return int(version) if version is not None else 0, None
        return None, None  # TimerFired, SearchAttributesUpserted

    def _run_new(self, cmd: Command) -> tuple[Any, BaseException | None]:
        """A step history has not seen: compute non-blocking values, queue the command."""
        value: Any = None
        if isinstance(cmd, RecordSideEffect):
            try:
                value = cmd.fn() if cmd.fn is not None else cmd.result
            except Exception as exc:  # the captured code failed: surface it at the yield
                return None, exc
            cmd.result = value
        elif isinstance(cmd, RecordVersionMarker):
            value = cmd.version
        try:
            cmd.to_wire()  # fail at the yield, in workflow code, if arguments are not encodable
        except PayloadCodecError as exc:
            return None, PayloadError(f"{cmd.describe()}: {exc}", reason=exc.reason)
        self.new_commands.append(cmd)
        return value, None

    # -- driving the code -------------------------------------------------------------------

    def _process(self, group: list[Command], gen: Any) -> tuple[bool, list[Any], BaseException | None]:
        """Match one yield to history. Returns ``(blocked, values, exception_to_throw)``."""
        location = _yield_location(gen)
        values: list[Any] = []
        error: BaseException | None = None
        blocked = False
        latest = -1.0  # history position of the latest resolution this yield depends on
        clock: datetime | None = None
        self.blocking_group = []
        for cmd in group:
            k = self.cursor
            recorded = self.steps[k] if k < len(self.steps) else None
            predates = recorded is not None and recorded.kind != "version_marker"
            if isinstance(cmd, RecordVersionMarker) and predates:
                # History predates this get_version call: the run follows the oldest branch and
                # records no marker, so the recorded steps keep their positions.
                values.append(cmd.min_supported)
                continue
            self.cursor += 1
            if recorded is None:
                value, exc = self._run_new(cmd)
                if exc is not None:
                    self.cursor -= 1  # nothing was emitted, so this yield occupies no step
                else:
                    self.blocking_group.append(cmd)
                    blocked = blocked or cmd.blocking
                    latest = _NEVER
            else:
                self.blocking_group.append(cmd)
                self._check(cmd, recorded, k, location)
                if recorded.resolution is None:
                    blocked = True
                    values.append(None)
                    continue
                value, exc = self._resolved_value(cmd, recorded)
                latest = max(latest, float(recorded.resolution_index or 0))
                if cmd.blocking:
                    moment = event_time(recorded.resolution)
                    if moment is not None and (clock is None or moment > clock):
                        clock = moment
            values.append(value)
            if exc is not None and error is None:
                error = exc  # the first failure in yield order is the one the code sees
        self._set_replaying()
        if blocked:
            return True, values, None
        self._apply_signals(before=latest)
        self.ctx._advance_clock(clock)
        return False, values, error

    def run(self, start_input: Any) -> ReplayOutcome:
        self._set_replaying()
        entry = self.definition.entry_point(self.instance)
        try:
            produced = entry(self.ctx, *_as_args(start_input))
        except NonDeterministicReplayError:
            raise
        except Exception as exc:
            return self._fail(exc)
        if not inspect.isgenerator(produced):
            return self._finish(produced)
        gen = produced
        send: Any = None
        throw: BaseException | None = None
        while True:
            yielded: Any
            try:
                yielded = gen.throw(throw) if throw is not None else gen.send(send)
            except StopIteration as stop:
                return self._finish(stop.value)
            except NonDeterministicReplayError:
                raise
            except Exception as exc:
                return self._fail(exc)
            send, throw = None, None
            if isinstance(yielded, ContinueAsNew):
                return self._finish(yielded)
            is_list = isinstance(yielded, (list, tuple))
            group: list[Any] = list(yielded) if is_list else [yielded]
            bad = next((c for c in group if not isinstance(c, Command) or c.step_kind is None), _NEVER)
            if bad is not _NEVER or not group:
                throw = TypeError(
                    f"workflow code yielded {bad!r}: yield a command from ctx (or a non-empty list of them)"
                )
                continue
            try:
                blocked, values, error = self._process(group, gen)
            except (NonDeterministicReplayError, PayloadError):
                _close(gen)
                raise
            except Exception as exc:  # a signal handler raised: the workflow fails
                _close(gen)
                return self._fail(exc)
            if blocked:
                return self._blocked(gen)
            if error is not None:
                throw = error
            else:
                send = values if is_list else values[0]

    def _blocked(self, gen: Any) -> ReplayOutcome:
        _close(gen)
        try:
            self._apply_signals(before=_NEVER)
        except Exception as exc:
            return self._fail(exc)
        if not self.new_commands:
            # Every step of the blocking yield is already scheduled. A workflow-task completion
            # must carry at least one command, so re-send that yield exactly as the code yielded
            # it; the server maps a command for an already-open step onto that step (one
            # execution per step, DECISIONS "Replay"), so nothing runs twice.
            self.new_commands = list(self.blocking_group)
        return ReplayOutcome(list(self.new_commands), self.instance)

    def _finish(self, result: Any) -> ReplayOutcome:
        if self.cursor < len(self.steps):
            raise self._unconsumed_error("finished")
        self._apply_signals(before=_NEVER)
        terminal: Command = result if isinstance(result, ContinueAsNew) else CompleteWorkflow(result)
        try:
            terminal.to_wire()
        except PayloadCodecError as exc:
            terminal = FailWorkflow(f"workflow result cannot be encoded: {exc}", "PayloadError")
        return ReplayOutcome([*self.new_commands, terminal], self.instance)

    def _fail(self, exc: BaseException) -> ReplayOutcome:
        message = str(exc) or type(exc).__name__
        terminal = FailWorkflow(message, type(exc).__name__, non_retryable=isinstance(exc, NonRetryableError))
        return ReplayOutcome([*self.new_commands, terminal], self.instance)


def replay(
    workflow: Any,
    history_events: Iterable[Mapping[str, Any]],
    start_input: Any = None,
    *,
    run_id: str = "",
    workflow_id: str = "",
    task_queue: str | None = None,
    payload_codec: str | None = "avro",
) -> ReplayOutcome:
    """Replay ``history_events`` through ``workflow`` and return the commands it emits next.

    Args:
        workflow: A ``@workflow.defn`` class or function, or its ``WorkflowDefinition``.
        history_events: The run's history, oldest first (any of the shapes in
            ``worker-plane.md`` §4.1 / §9).
        start_input: The decoded start input: a list of positional arguments, one scalar
            argument, or ``None`` for none.
        run_id: Seeds ``ctx.random()``.
        workflow_id: Exposed as ``ctx.workflow_id``.
        task_queue: Exposed as ``ctx.task_queue``.
        payload_codec: The run's codec, used for history values whose event names none;
            ``None`` reads untagged values as JSON text (old histories).

    Raises:
        NonDeterministicReplayError: The code no longer matches the recorded steps.
        PayloadError: A recorded value cannot be decoded.
    """
    definition = get_definition(workflow)
    events = list(history_events)
    ctx = WorkflowContext(
        workflow_type=definition.name,
        workflow_id=workflow_id,
        run_id=run_id,
        task_queue=task_queue,
        start_time=start_time(events),
    )
    return _Engine(definition, events, ctx, payload_codec).run(start_input)
