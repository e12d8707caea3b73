"""Entry points of the replay engine (:mod:`._engine`): a full replay, or a kept one to resume.

:func:`replay` replays a whole history and returns the commands the code emits next.
:func:`replay_kept` does the same but leaves the code suspended at the yield it blocked on, so
the worker's sticky cache can :meth:`ReplayEngine.resume` it with only the events the run's next
task adds, instead of replaying the whole history again (replay cost per task becomes
proportional to the new events, not to the run's length).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._context import WorkflowContext
from ._definition import get_definition
from ._engine import ReplayEngine
from ._history_compat import start_time
from ._outcome import ReplayOutcome
from ._receivers import answer_update

__all__ = ["ReplayEngine", "ReplayOutcome", "replay", "replay_kept"]


def _engine(
    workflow: Any,
    history_events: Iterable[Mapping[str, Any]],
    *,
    run_id: str,
    workflow_id: str,
    task_queue: str | None,
    payload_codec: str | None,
    strict_signals: bool = False,
) -> ReplayEngine:
    definition = get_definition(workflow)
    events = list(history_events)
    ctx = WorkflowContext(
        workflow_type=definition.name,
        workflow_id=workflow_id,
        run_id=run_id,
        task_queue=task_queue,
        start_time=start_time(events),
    )
    return ReplayEngine(definition, events, ctx, payload_codec, strict_signals)


def replay(
    workflow: Any,
    history_events: Iterable[Mapping[str, Any]],
    start_input: Any = None,
    *,
    run_id: str = "",
    workflow_id: str = "",
    task_queue: str | None = None,
    payload_codec: str | None = "avro",
    update_id: str | None = None,
    strict_signals: bool = False,
) -> ReplayOutcome:
    """Replay ``history_events`` through ``workflow`` and return the commands it emits next.

    Args:
        workflow: A ``@workflow.defn`` class or function, or its ``WorkflowDefinition``.
        history_events: The run's history, oldest first (any of the shapes read by
            :mod:`durable_workflow.workflow._history_compat`: paged, exported or hand-written).
        start_input: The decoded start input: a list of positional arguments, one scalar
            argument, or ``None`` for none.
        run_id: Seeds ``ctx.random()``.
        workflow_id: Exposed as ``ctx.workflow_id``.
        task_queue: Exposed as ``ctx.task_queue``.
        payload_codec: The run's codec, used for history values whose event names none;
            ``None`` reads untagged values as JSON text (old histories).
        update_id: Answer this accepted update instead of advancing the workflow: the
            outcome's only command is ``CompleteUpdate`` or ``FailUpdate``.
        strict_signals: Raise :class:`~._receivers.UnhandledSignal` for a signal the code has
            no handler for (the worker's workflow tasks: the task fails and the signal is not
            lost). Otherwise, as SDK 0.4.84 and its test harness do, such a signal is ignored
            with a warning, so recorded histories keep replaying.

    Raises:
        NonDeterministicReplayError: The code no longer matches the recorded steps.
        PayloadError: A recorded value cannot be decoded.
        UnhandledSignal: With ``strict_signals``, a signal without a handler.
    """
    engine = _engine(
        workflow,
        history_events,
        run_id=run_id,
        workflow_id=workflow_id,
        task_queue=task_queue,
        payload_codec=payload_codec,
        strict_signals=strict_signals,
    )
    outcome = engine.run(start_input)
    if update_id is None:
        return outcome
    # The update is applied to the state the replay rebuilt; the workflow itself advances in
    # the next task, as the reference worker does (one update command per update task).
    answer = answer_update(engine.definition, engine.instance, engine.events, update_id, payload_codec)
    return ReplayOutcome([answer], engine.instance, sites=[None])


def replay_kept(
    workflow: Any,
    history_events: Iterable[Mapping[str, Any]],
    start_input: Any = None,
    *,
    run_id: str = "",
    workflow_id: str = "",
    task_queue: str | None = None,
    payload_codec: str | None = "avro",
    strict_signals: bool = False,
) -> tuple[ReplayOutcome, ReplayEngine | None]:
    """:func:`replay`, keeping the code suspended where it blocked.

    Returns the outcome and, when the code is blocked (the outcome is not terminal), the
    engine to :meth:`~ReplayEngine.resume` with the events of the run's next task (``None``
    when the run finished: nothing to continue). The caller owns the engine: resume it at most
    once at a time, and :meth:`~ReplayEngine.close` it when dropping it.

    Raises:
        The same as :func:`replay`; the engine is closed then.
    """
    engine = _engine(
        workflow,
        history_events,
        run_id=run_id,
        workflow_id=workflow_id,
        task_queue=task_queue,
        payload_codec=payload_codec,
        strict_signals=strict_signals,
    )
    engine.keep = True
    outcome = engine.run(start_input)
    return outcome, (engine if engine.suspended else None)
