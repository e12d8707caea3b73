"""``WorkflowEnvironment``: run workflow code to completion in plain pytest, no server, no clock.

The harness plays the server's part around the same replay engine the worker uses: it
replays the run's history, records the commands the code emits as history events (with real
workflow sequences and Avro payloads), answers them from registered mocks, and replays again,
until the code reaches a terminal command. Timers fire at once on a logical clock (so
``ctx.now()`` moves by exactly the slept time), side effects, version markers and search
attribute upserts are recorded as they come, signals and updates are delivered in the order they
were queued, and continue-as-new chains are followed run by run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ..errors import UpdateRejected, WorkflowFailed
from ..protocol import codec
from ..workflow import (
    Command,
    CompleteUpdate,
    CompleteWorkflow,
    ContinueAsNew,
    FailWorkflow,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    WaitCondition,
)
from ..workflow._definition import WorkflowDefinition, get_definition
from ..workflow._query import query_workflow
from ..workflow._replay import replay
from ._history import OpenStep, RunHistory


def _round_trip(value: Any) -> Any:
    """What a value looks like after crossing the wire (tuples become lists, and so on)."""
    return codec.decode(codec.encode(value))


@dataclass
class WorkflowRunRecord:
    """One run of a chain that :meth:`WorkflowEnvironment.execute_workflow` drove.

    Attributes:
        workflow_type: The run's workflow type.
        input: The run's positional arguments.
        run_id: The run id the harness gave it (seeds ``ctx.random()``).
        history: The run's history events, server-shaped; save them and replay them with
            :func:`durable_workflow.testing.replay_history`.
        terminal: The terminal command the run ended with (``CompleteWorkflow``,
            ``FailWorkflow`` or ``ContinueAsNew``).
        search_attributes: The run's search attributes after every upsert.
    """

    workflow_type: str
    input: list[Any]
    run_id: str
    history: list[dict[str, Any]] = field(default_factory=list)
    terminal: Command | None = None
    search_attributes: dict[str, Any] = field(default_factory=dict)
    definition: WorkflowDefinition | None = field(default=None, repr=False, compare=False)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Alias of :attr:`history`."""
        return self.history


@dataclass
class _Message:
    kind: str  # "signal" | "update"
    name: str
    args: list[Any]
    run: int | None
    update_id: str = ""


class WorkflowEnvironment:
    """In-process test harness: drive a workflow to completion against registered mocks.

    Example::

        env = WorkflowEnvironment()
        env.register_activity_result("greet", "hello, world")
        assert env.execute_workflow(Greeter, "world") == "hello, world"

    Args:
        iteration_limit: Maximum replays of one run before the harness gives up with
            ``RuntimeError`` (a workflow that never finishes).
        continue_as_new_limit: Maximum continue-as-new links followed before ``RuntimeError``.
        start_time: The logical time the first run starts at (default: now, in UTC).
        workflow_id: Exposed to the code as ``ctx.workflow_id``.
    """

    def __init__(
        self,
        *,
        iteration_limit: int = 1000,
        continue_as_new_limit: int = 50,
        start_time: datetime | None = None,
        workflow_id: str = "test-workflow",
    ) -> None:
        if iteration_limit < 1 or continue_as_new_limit < 0:
            raise ValueError("iteration_limit must be >= 1 and continue_as_new_limit >= 0")
        self.iteration_limit = iteration_limit
        self.continue_as_new_limit = continue_as_new_limit
        self.workflow_id = workflow_id
        moment = start_time or datetime.now(timezone.utc).replace(microsecond=0)
        self._clock = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        self._activity_results: dict[str, Any] = {}
        self._activity_fns: dict[str, Callable[..., Any]] = {}
        self._child_results: dict[str, Any] = {}
        self._workflows: dict[str, WorkflowDefinition] = {}
        self._pending: list[_Message] = []
        self._update_answers: dict[str, Command] = {}
        self._update_count = 0
        self._runs: list[WorkflowRunRecord] = []

    # -- registration -------------------------------------------------------------------------

    def register_activity_result(self, name: str, result: Any) -> None:
        """Answer every call of activity ``name`` with ``result``.

        An exception instance as ``result`` fails the activity instead (the workflow sees
        ``ActivityFailed`` carrying its message and type name).
        """
        self._activity_results[name] = result

    def register_activity(self, name: str, fn: Callable[..., Any]) -> None:
        """Answer each call of activity ``name`` with ``fn(*arguments)``.

        Takes precedence over :meth:`register_activity_result`. An exception raised by ``fn``
        fails that activity (``ActivityFailed`` in the workflow), as a real activity would.
        """
        if not callable(fn):
            raise TypeError("register_activity takes a callable")
        self._activity_fns[name] = fn

    def register_child_workflow_result(self, workflow_type: str, result: Any) -> None:
        """Answer every child workflow of ``workflow_type`` with ``result``.

        An exception instance as ``result`` fails the child (``ChildWorkflowFailed``).
        """
        self._child_results[workflow_type] = result

    def register_workflow(self, workflow_cls: Any) -> None:
        """Make a workflow resolvable by type name (for ``continue_as_new(workflow_type=...)``)."""
        definition = get_definition(workflow_cls)
        self._workflows[definition.name] = definition

    # -- messages -----------------------------------------------------------------------------

    def signal(self, name: str, args: Sequence[Any] | None = None, run: int | None = None) -> None:
        """Queue signal ``name``; it is delivered before the next replay.

        Args:
            name: The ``@workflow.signal`` name.
            args: The handler's positional arguments.
            run: Deliver to link ``run`` (1-based) of a continue-as-new chain; default: the
                current run (the first one when queued before ``execute_workflow``).
        """
        self._pending.append(_Message("signal", name, list(args or []), run))

    def update(self, name: str, args: Sequence[Any] | None = None, run: int | None = None) -> str:
        """Queue update ``name``; returns its update id (see :meth:`update_result`).

        It is delivered before the next replay: its validator and handler run against the
        replayed state, and the answer is recorded in history like the server records it.
        """
        self._update_count += 1
        update_id = f"update-{self._update_count}"
        self._pending.append(_Message("update", name, list(args or []), run, update_id))
        return update_id

    def update_result(self, update_id: str) -> Any:
        """The result of a delivered update.

        Raises:
            KeyError: The update was not delivered (yet).
            UpdateRejected: Its validator refused it, or its handler raised.
        """
        answer = self._update_answers[update_id]
        if isinstance(answer, CompleteUpdate):
            return _round_trip(answer.result)
        message = getattr(answer, "message", "update failed")
        raise UpdateRejected(message, reason="update_rejected", body=answer.to_wire())

    def query(self, name: str, *args: Any, run: int | None = None) -> Any:
        """Answer query ``name`` from the state of a run (default: the last one) replayed in full."""
        if not self._runs:
            raise RuntimeError("no run to query: call execute_workflow first")
        record = self._runs[(run or len(self._runs)) - 1]
        assert record.definition is not None
        value = query_workflow(
            record.definition,
            record.history,
            record.input,
            name,
            list(args),
            run_id=record.run_id,
            workflow_id=self.workflow_id,
        )
        return _round_trip(value)

    # -- results ------------------------------------------------------------------------------

    @property
    def runs(self) -> list[WorkflowRunRecord]:
        """One record per run of the last ``execute_workflow`` chain, first run first."""
        return list(self._runs)

    @property
    def run_count(self) -> int:
        """How many runs the last ``execute_workflow`` chain had."""
        return len(self._runs)

    # -- driving ------------------------------------------------------------------------------

    def execute_workflow(self, workflow_cls: Any, *args: Any, run_id: str = "test-run") -> Any:
        """Drive the workflow to a terminal state and return its result.

        Follows continue-as-new links and returns the result of the final run.

        Raises:
            WorkflowFailed: The workflow ended in the failed state.
            KeyError: The code scheduled an activity or child workflow with no registered mock,
                or continued as a workflow type that is not registered.
            RuntimeError: The iteration or continue-as-new limit was exceeded, or the code
                waits on a condition nothing can satisfy any more.
        """
        definition = get_definition(workflow_cls)
        self._workflows.setdefault(definition.name, definition)
        self._runs = []
        arguments = _round_trip(list(args))
        current_run_id = run_id
        while True:
            if len(self._runs) > self.continue_as_new_limit:
                raise RuntimeError(
                    f"continue-as-new chain exceeded continue_as_new_limit={self.continue_as_new_limit}; "
                    f"raise the limit with WorkflowEnvironment(continue_as_new_limit=...) if it is legitimate"
                )
            next_run_id = f"{current_run_id}-continued"
            terminal = self._execute_run(definition, arguments, current_run_id, next_run_id)
            if isinstance(terminal, CompleteWorkflow):
                return _round_trip(terminal.result)
            if isinstance(terminal, FailWorkflow):
                raise WorkflowFailed(
                    terminal.message,
                    terminal.exception_type,
                    workflow_id=self.workflow_id,
                    run_id=current_run_id,
                )
            assert isinstance(terminal, ContinueAsNew)
            next_type = terminal.workflow_type or definition.name
            if next_type not in self._workflows:
                raise KeyError(
                    f"workflow continued as {next_type!r}, which is not registered; "
                    f"call env.register_workflow(...) with that class first"
                )
            definition = self._workflows[next_type]
            arguments = _round_trip(terminal.arguments)
            current_run_id = next_run_id

    def _execute_run(
        self, definition: WorkflowDefinition, arguments: list[Any], run_id: str, next_run_id: str
    ) -> Command:
        history = RunHistory(definition.name, run_id, self.workflow_id, self._clock)
        history.start(arguments)
        record = WorkflowRunRecord(definition.name, arguments, run_id, history.events, definition=definition)
        self._runs.append(record)
        run_number = len(self._runs)
        try:
            for _ in range(self.iteration_limit):
                self._deliver(run_number, definition, arguments, history)
                outcome = replay(
                    definition, history.events, arguments, run_id=run_id, workflow_id=self.workflow_id
                )
                terminal = outcome.terminal
                wait = history.open_wait()
                if wait is not None and not (outcome.resent and outcome.commands == [wait.command]):
                    history.wait_satisfied(wait)  # a message let the code past the wait
                if not outcome.resent:
                    history.record(outcome.commands[:-1] if terminal is not None else outcome.commands)
                if terminal is not None:
                    record.terminal = terminal
                    history.terminal(terminal, next_run_id)
                    return terminal
                self._resolve(history)
                self._expire_wait(run_number, history)
            raise RuntimeError(
                f"workflow {definition.name!r} did not reach a terminal state within "
                f"iteration_limit={self.iteration_limit} replays; raise it with "
                f"WorkflowEnvironment(iteration_limit=...) if the workflow legitimately iterates more"
            )
        finally:
            record.search_attributes = dict(history.search_attributes)
            self._clock = history.clock

    def _deliver(
        self, run_number: int, definition: WorkflowDefinition, arguments: list[Any], history: RunHistory
    ) -> None:
        due = [m for m in self._pending if m.run is None or m.run == run_number]
        self._pending = [m for m in self._pending if m not in due]
        for message in due:
            if message.kind == "signal":
                history.signal(message.name, message.args)
                continue
            history.update_accepted(message.update_id, message.name, message.args)
            outcome = replay(
                definition,
                history.events,
                arguments,
                run_id=history.run_id,
                workflow_id=self.workflow_id,
                update_id=message.update_id,
            )
            answer = outcome.commands[0]
            self._update_answers[message.update_id] = answer
            history.update_answered(message.update_id, message.name, message.args, answer)

    def _resolve(self, history: RunHistory) -> None:
        """Answer every open activity, timer and child, in the order they fall due."""
        batch_clock = history.clock

        def due(step: OpenStep) -> int:
            return step.command.delay_seconds if isinstance(step.command, StartTimer) else 0

        for step in sorted(
            (s for s in history.open_steps if not isinstance(s.command, WaitCondition)), key=due
        ):
            command = step.command
            if isinstance(command, StartTimer):
                history.clock = max(history.clock, batch_clock + timedelta(seconds=command.delay_seconds))
                history.timer_fired(step)
                continue
            try:
                result = self._answer(command)
            except KeyError:
                raise
            except Exception as exc:  # the mock raised: the activity failed, as a real one would
                history.failed(step, exc)
                continue
            if isinstance(result, BaseException):
                history.failed(step, result)
            else:
                history.completed(step, result)

    def _answer(self, command: Command) -> Any:
        if isinstance(command, ScheduleActivity):
            name = command.activity_type
            if name in self._activity_fns:
                return self._activity_fns[name](*_round_trip(command.arguments))
            if name in self._activity_results:
                return self._activity_results[name]
            raise KeyError(
                f"no mock for activity {name!r}: call env.register_activity_result({name!r}, ...) "
                f"or env.register_activity({name!r}, fn)"
            )
        assert isinstance(command, StartChildWorkflow)
        if command.workflow_type in self._child_results:
            return self._child_results[command.workflow_type]
        raise KeyError(
            f"no mock for child workflow {command.workflow_type!r}: call "
            f"env.register_child_workflow_result({command.workflow_type!r}, ...)"
        )

    def _expire_wait(self, run_number: int, history: RunHistory) -> None:
        """Blocked on a wait with nothing left to deliver: only its timeout can end it."""
        wait = history.open_wait()
        if wait is None or any(m.run is None or m.run == run_number for m in self._pending):
            return
        assert isinstance(wait.command, WaitCondition)
        if wait.command.timeout_seconds is None:
            key = wait.command.condition_key
            raise RuntimeError(
                f"workflow {history.workflow_type!r} waits on condition {key!r} with no timeout, and "
                f"no queued signal or update can satisfy it; queue one with env.signal(...) / "
                f"env.update(...) (a mock may queue it while the workflow runs) or give a timeout"
            )
        history.wait_timed_out(wait)
