"""The replay engine: history + workflow code → the commands the code wants next.

The entry points are in :mod:`._replay`; this module holds the engine itself.

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
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..errors import (
    NonDeterministicReplayError,
    NonRetryableError,
    PayloadError,
)
from ..protocol.codec import PayloadCodecError
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
from ._definition import WorkflowDefinition
from ._diagnostics import UNKNOWN_SITE, YieldSite, blocked_early, step_mismatch, unconsumed, yield_site
from ._history_compat import (
    RecordedStep,
    StepRecorder,
    event_time,
)
from ._outcome import ReplayOutcome
from ._receivers import Receiver, apply_receiver, as_args, collect_receivers
from ._resolutions import resolved_value

_NEVER = math.inf


def _close(gen: Any) -> None:
    """Finish a suspended generator; its ``finally`` blocks must not break the replay."""
    try:
        gen.close()
    except Exception:
        pass


class ContinuationMismatch(RuntimeError):
    """The events fed to :meth:`ReplayEngine.resume` do not record what the kept replay emitted.

    A kept replay may only continue once history holds the commands of its last outcome (the
    server records a completion's commands atomically); otherwise only a full replay is right.
    """


class _PredicateFailed(Exception):
    """Internal: a wait predicate raised ``error`` (a signal handler raising is different)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class ReplayEngine:
    """One replay of one run: matches the code's yields to history; resumable when kept."""

    def __init__(
        self,
        definition: WorkflowDefinition,
        events: Sequence[Mapping[str, Any]],
        ctx: WorkflowContext,
        payload_codec: str | None,
        strict_signals: bool = False,
    ) -> None:
        self.definition = definition
        self.strict_signals = strict_signals
        self.events: list[Mapping[str, Any]] = list(events)
        self.ctx = ctx
        self.codec = payload_codec
        self.recorder = StepRecorder()
        self.recorder.feed(self.events)
        self.steps = self.recorder.steps
        self.receivers: list[Receiver] = collect_receivers(self.events, payload_codec)
        self.next_receiver = 0
        self.cursor = 0
        # Set while the code is suspended at a blocking yield and the engine may be resumed:
        # the generator, and the yield (its commands, list or not, the cursor before it).
        self.keep = False
        self.gen: Any = None
        self.pending: tuple[list[Command], bool, int] | None = None
        self.new_commands: list[Command] = []
        self.new_sites: list[YieldSite | None] = []
        self.new_positions: list[int] = []  # the step position of each new command
        self.blocking_group: list[Command] = []  # the step commands of the latest yield
        self.site: YieldSite = UNKNOWN_SITE
        self.instance = definition.new_instance()

    # -- receivers --------------------------------------------------------------------------

    def _apply_receivers(self, before: float) -> None:
        """Run handlers of signals/updates recorded before history position ``before``.

        A receiver is applied at the first point where the code observes something history
        recorded after it (a resolution, or the next recorded step). That point depends only on
        history, so every replay applies each receiver at the same place.
        """
        receivers = self.receivers
        while self.next_receiver < len(receivers) and receivers[self.next_receiver].index < before:
            receiver = receivers[self.next_receiver]
            self.next_receiver += 1
            apply_receiver(self.definition, self.instance, receiver, strict=self.strict_signals)

    def _set_replaying(self) -> None:
        self.ctx._replaying = self.cursor < len(self.steps)

    # -- determinism ------------------------------------------------------------------------

    @staticmethod
    def _matches(cmd: Command, recorded: RecordedStep) -> bool:
        name = cmd.step_name()
        same_name = name is None or recorded.name is None or name == recorded.name
        if cmd.step_kind != recorded.kind or not same_name:
            return False
        if not isinstance(cmd, WaitCondition) or cmd.condition_key or recorded.name:
            return True
        # Waits without a key are matched by their predicate's identity.
        fingerprint = recorded.payload.get("condition_definition_fingerprint")
        return not fingerprint or fingerprint == cmd.fingerprint

    def _check(self, cmd: Command, recorded: RecordedStep, k: int) -> None:
        if not self._matches(cmd, recorded):
            raise step_mismatch(self.definition.name, self.ctx.run_id, k + 1, recorded, cmd, self.site)

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
        self.new_sites.append(self.site)
        self.new_positions.append(self.cursor - 1)
        return value, None

    # -- one yield --------------------------------------------------------------------------

    def _process(self, group: list[Command]) -> tuple[bool, list[Any], BaseException | None]:
        """Match one yield to history. Returns ``(blocked, values, exception_to_throw)``."""
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
                self._check(cmd, recorded, k)
                if recorded.resolution is None:
                    blocked = True
                    values.append(None)
                    continue
                value, exc = resolved_value(cmd, recorded, self.codec)
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
        self._apply_receivers(before=latest)
        self.ctx._advance_clock(clock)
        return False, values, error

    def _next_boundary(self) -> float:
        """History position of the next recorded step: receivers before it were seen by now."""
        return float(self.steps[self.cursor].index) if self.cursor < len(self.steps) else _NEVER

    def _holds(self, cmd: WaitCondition) -> bool:
        assert cmd.predicate is not None
        try:
            return bool(cmd.predicate())
        except Exception as exc:
            raise _PredicateFailed(exc) from exc

    def _process_wait(self, cmd: WaitCondition) -> tuple[bool, Any]:
        """Answer ``yield ctx.wait_condition(...)``. Returns ``(blocked, value)``.

        A predicate that raises surfaces as :class:`_PredicateFailed`; the caller throws the
        original exception into the code at the yield.
        """
        self.blocking_group = [cmd]
        while True:
            k = self.cursor
            recorded = self.steps[k] if k < len(self.steps) else None
            if recorded is None or not self._matches(cmd, recorded):
                # History never opened this wait: the predicate held when the code got here, or
                # this is the first time the code gets here. (A recorded open of this very wait
                # is trusted even if the predicate holds now: a signal may have arrived while
                # the task that opened it was running.)
                self._apply_receivers(before=self._next_boundary())
                if self._holds(cmd):
                    return False, True
                if recorded is not None and recorded.kind == "condition_wait":
                    self._check(cmd, recorded, k)  # another wait: a mismatch
                if recorded is not None:
                    raise blocked_early(
                        self.definition.name, self.ctx.run_id, k + 1, recorded, [cmd], self.site
                    )
                self.cursor += 1
                _, exc = self._run_new(cmd)
                if exc is not None:
                    raise exc
                self._set_replaying()
                return True, None
            self._check(cmd, recorded, k)
            self.cursor += 1
            self._set_replaying()
            if recorded.resolution is not None:
                self._apply_receivers(before=float(recorded.resolution_index or 0))
                self.ctx._advance_clock(event_time(recorded.resolution))
                value, _ = resolved_value(cmd, recorded, self.codec)
                return False, value
            # Open and unresolved: what arrived since decides.
            self._apply_receivers(before=self._next_boundary())
            if self._holds(cmd):
                return False, True
            following = self.steps[self.cursor] if self.cursor < len(self.steps) else None
            if following is None:
                # Still waiting: a re-send names the open wait, so the server keeps that wait
                # rather than opening another one with the same key.
                wait_id = recorded.payload.get("condition_wait_id")
                cmd.condition_wait_id = str(wait_id) if wait_id else None
                return True, None
            if following.kind != "condition_wait":
                raise blocked_early(
                    self.definition.name, self.ctx.run_id, self.cursor + 1, following, [cmd], self.site
                )
            # A re-opened wait (the reference SDK re-sends the wait on every wake-up): loop.

    # -- driving the code -------------------------------------------------------------------

    def run(self, start_input: Any) -> ReplayOutcome:
        self._set_replaying()
        entry = self.definition.entry_point(self.instance)
        try:
            produced = entry(self.ctx, *as_args(start_input))
        except NonDeterministicReplayError:
            raise
        except Exception as exc:
            return self._fail(exc)
        if not inspect.isgenerator(produced):
            return self._finish(produced)
        self.gen = produced
        return self._drive(None, None)

    def resume(self, new_events: Sequence[Mapping[str, Any]]) -> ReplayOutcome:
        """Continue a kept replay with the events history added since it blocked.

        The code is suspended at the yield it blocked on; that yield is matched again against
        the longer history (from the same step position), exactly as a full replay reaches it,
        and the code runs on from there. Only valid after an outcome of a replay started with
        ``keep`` that was neither terminal nor raised. Raises as :meth:`run` does (the engine
        is closed then).
        """
        if self.gen is None or self.pending is None:
            raise RuntimeError("this replay is not suspended at a yield")
        start = len(self.events)
        self.events.extend(new_events)
        self.recorder.feed(new_events)
        self.receivers.extend(collect_receivers(new_events, self.codec, start))
        group, is_list, cursor = self.pending
        for position, cmd in zip(self.new_positions, self.new_commands, strict=True):
            # Commands emitted before the blocking yield are not matched again: history must
            # hold them (the blocking yield's own are matched again below).
            if position < cursor and (
                position >= len(self.steps) or not self._matches(cmd, self.steps[position])
            ):
                self.close()
                raise ContinuationMismatch(f"history does not record the kept replay's {cmd.describe()}")
        self.new_commands, self.new_sites, self.new_positions = [], [], []
        self.pending = None
        self.cursor = cursor
        for cmd in group:
            if isinstance(cmd, WaitCondition):
                cmd.condition_wait_id = None  # as a fresh yield of the code would carry
        self._set_replaying()
        answered = self._answer(group, is_list)
        if isinstance(answered, ReplayOutcome):
            return answered
        return self._drive(*answered)

    @property
    def suspended(self) -> bool:
        """The code is suspended at a blocking yield: :meth:`resume` may continue it."""
        return self.gen is not None and self.pending is not None

    @property
    def history_length(self) -> int:
        """How many history events the engine has seen."""
        return len(self.events)

    def close(self) -> None:
        """Drop a kept replay: finish the suspended generator."""
        gen, self.gen, self.pending = self.gen, None, None
        if gen is not None:
            _close(gen)

    def _drive(self, send: Any, throw: BaseException | None) -> ReplayOutcome:
        gen = self.gen
        while True:
            yielded: Any
            try:
                yielded = gen.throw(throw) if throw is not None else gen.send(send)
            except StopIteration as stop:
                self.gen = None
                return self._finish(stop.value)
            except NonDeterministicReplayError:
                self.gen = None
                raise
            except Exception as exc:
                self.gen = None
                return self._fail(exc)
            send, throw = None, None
            if isinstance(yielded, ContinueAsNew):
                self.close()
                return self._finish(yielded)
            self.site = yield_site(gen)
            is_list = isinstance(yielded, (list, tuple))
            group: list[Any] = list(yielded) if is_list else [yielded]
            bad = next((c for c in group if not isinstance(c, Command) or c.step_kind is None), _NEVER)
            if bad is not _NEVER or not group:
                throw = TypeError(
                    f"workflow code yielded {bad!r}: yield a command from ctx (or a non-empty list of them)"
                )
                continue
            if is_list and any(isinstance(c, WaitCondition) for c in group):
                throw = TypeError("yield ctx.wait_condition(...) on its own, not inside a list")
                continue
            answered = self._answer(group, is_list)
            if isinstance(answered, ReplayOutcome):
                return answered
            send, throw = answered

    def _answer(
        self, group: list[Command], is_list: bool
    ) -> ReplayOutcome | tuple[Any, BaseException | None]:
        """Match one yield to history: what to send (or throw) into the code, or the outcome."""
        cursor = self.cursor
        try:
            if isinstance(group[0], WaitCondition):
                error: BaseException | None = None
                try:
                    blocked, value = self._process_wait(group[0])
                except _PredicateFailed as failed:  # the code sees it at the yield
                    blocked, value, error = False, None, failed.error
                values = [value]
            else:
                blocked, values, error = self._process(group)
        except (NonDeterministicReplayError, PayloadError):
            self.close()
            raise
        except Exception as exc:  # a signal/update handler raised: the workflow fails
            self.close()
            return self._fail(exc)
        if blocked:
            self.pending = (group, is_list, cursor)
            return self._blocked()
        if error is not None:
            return None, error
        return (values if is_list else values[0]), None

    def _blocked(self) -> ReplayOutcome:
        if not self.keep:
            self.close()
        if self.cursor < len(self.steps):
            self.close()
            raise blocked_early(
                self.definition.name,
                self.ctx.run_id,
                self.cursor + 1,
                self.steps[self.cursor],
                self.blocking_group,
                self.site,
            )
        try:
            self._apply_receivers(before=_NEVER)
        except NonDeterministicReplayError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            return self._fail(exc)
        if not self.new_commands:
            # Every step of the blocking yield is already scheduled. A workflow-task completion
            # must carry at least one command, so re-send that yield exactly as the code yielded
            # it; the server maps a command for an already-open step onto that step (one
            # execution per step, however often its command is sent), so nothing runs twice.
            group = list(self.blocking_group)
            return ReplayOutcome(
                group, self.instance, resent=True, sites=[self.site] * len(group), recorded=len(self.steps)
            )
        return ReplayOutcome(
            list(self.new_commands), self.instance, sites=list(self.new_sites), recorded=len(self.steps)
        )

    def _finish(self, result: Any) -> ReplayOutcome:
        if self.cursor < len(self.steps):
            raise unconsumed(
                self.definition.name, self.ctx.run_id, self.cursor, self.steps[self.cursor :], self.site
            )
        try:
            self._apply_receivers(before=_NEVER)
        except NonDeterministicReplayError:
            raise
        except Exception as exc:
            return self._fail(exc)
        terminal: Command = result if isinstance(result, ContinueAsNew) else CompleteWorkflow(result)
        try:
            terminal.to_wire()
        except PayloadCodecError as exc:
            terminal = FailWorkflow(f"workflow result cannot be encoded: {exc}", "PayloadError")
        return self._outcome(terminal)

    def _fail(self, exc: BaseException) -> ReplayOutcome:
        message = str(exc) or type(exc).__name__
        return self._outcome(
            FailWorkflow(message, type(exc).__name__, non_retryable=isinstance(exc, NonRetryableError))
        )

    def _outcome(self, terminal: Command) -> ReplayOutcome:
        return ReplayOutcome(
            [*self.new_commands, terminal],
            self.instance,
            sites=[*self.new_sites, None],
            recorded=len(self.steps),
        )
