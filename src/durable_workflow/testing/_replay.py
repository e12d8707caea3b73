"""Replay captured histories against current workflow code: catch non-determinism in CI.

:func:`replay_history` and :class:`Replayer` run the same engine the worker runs. On top of
the step-by-step determinism checks of the engine, they compare how the code ends with how the
history says the run ended: a run that completed must still complete, with the same result,
without scheduling anything new.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from typing import Any

from .._external_payloads import PayloadResolver, holds_reference
from ..protocol import codec
from ..protocol.history import EventType as E
from ..protocol.payload_storage import ExternalPayloadCache, ExternalStorageDriver
from ..workflow import Command, CompleteWorkflow, ContinueAsNew, FailWorkflow
from ..workflow._definition import WorkflowDefinition, get_definition
from ..workflow._diagnostics import terminal_mismatch
from ..workflow._history_compat import (
    decode_value,
    event_payload,
    event_type,
    started_payload,
)
from ..workflow._history_compat import (
    start_input as recorded_start_input,
)
from ..workflow._replay import ReplayOutcome, replay

_TERMINAL_EVENTS = frozenset({E.WORKFLOW_COMPLETED, E.WORKFLOW_FAILED, E.WORKFLOW_CONTINUED_AS_NEW})
_EVENT_KEYS = ("events", "history_events", "history")


def _split(history: Any) -> tuple[list[Mapping[str, Any]], Mapping[str, Any]]:
    """``(events, envelope)`` of a history given as an event list or a dict holding one."""
    if isinstance(history, Mapping):
        for key in _EVENT_KEYS:
            events = history.get(key)
            if isinstance(events, list):
                return list(events), history
        raise ValueError(f"history dict has no event list under any of {list(_EVENT_KEYS)}")
    if isinstance(history, (str, bytes)) or not isinstance(history, Iterable):
        raise ValueError("history must be a list of events or a dict with an 'events' key")
    return list(history), {}


def _recorded_codec(events: Sequence[Mapping[str, Any]], envelope: Mapping[str, Any]) -> str | None:
    """The run's codec as the history recorded it (``None``: untagged JSON values)."""
    started = started_payload(events) or {}
    for source in (started, envelope, envelope.get("workflow") or {}, envelope.get("payloads") or {}):
        if isinstance(source, Mapping):
            value = source.get("payload_codec") or source.get("codec")
            if isinstance(value, str) and value:
                return value
    return None


def _recorded(envelope: Mapping[str, Any], events: Sequence[Mapping[str, Any]], key: str, alt: str) -> str:
    started = started_payload(events) or {}
    workflow = envelope.get("workflow") if isinstance(envelope.get("workflow"), Mapping) else {}
    for value in (started.get(key), envelope.get(alt), workflow.get(alt) if workflow else None):
        if isinstance(value, str) and value:
            return value
    return ""


def _check_terminal(
    definition: WorkflowDefinition,
    run_id: str,
    events: Sequence[Mapping[str, Any]],
    outcome: ReplayOutcome,
    codec_name: str | None,
) -> None:
    """Compare the replay's ending with the terminal event history recorded, if any."""
    recorded = next((e for e in reversed(events) if event_type(e) in _TERMINAL_EVENTS), None)
    if recorded is None:
        return
    etype = event_type(recorded)
    payload = event_payload(recorded)
    steps = outcome.recorded
    new_steps = outcome.commands[:-1] if outcome.terminal is not None else outcome.commands
    if new_steps or outcome.terminal is None:
        site = outcome.sites[0] if outcome.sites else None
        verb = "waits on" if outcome.terminal is None else "yields"
        raise terminal_mismatch(
            definition.name,
            run_id,
            steps + 1,
            f"{etype} after {steps} step(s)",
            f"{verb} {', '.join(c.describe() for c in new_steps)}",
            site,
        )
    terminal = outcome.terminal
    expected = {
        E.WORKFLOW_COMPLETED: CompleteWorkflow,
        E.WORKFLOW_FAILED: FailWorkflow,
        E.WORKFLOW_CONTINUED_AS_NEW: ContinueAsNew,
    }[etype]
    if not isinstance(terminal, expected):
        raise terminal_mismatch(
            definition.name, run_id, steps + 1, etype, f"ends with {_describe(terminal)}", None
        )
    if isinstance(terminal, CompleteWorkflow):
        raw = payload.get("output") if payload.get("output") is not None else payload.get("result")
        if raw is None:
            return
        before = decode_value(raw, payload, codec_name)
        now = codec.decode(codec.encode(terminal.result))
        if before != now:
            raise terminal_mismatch(
                definition.name,
                run_id,
                steps + 1,
                f"{etype} with result {before!r}",
                f"completes with result {now!r}",
                None,
            )


def _describe(command: Command) -> str:
    if isinstance(command, FailWorkflow):
        return f"{command.wire_type} ({command.exception_type}: {command.message})"
    return command.wire_type


def _replay_checked(
    definition: WorkflowDefinition,
    history: Any,
    start_input: Any,
    *,
    workflow_id: str | None,
    run_id: str,
    payload_codec: str | None,
) -> ReplayOutcome:
    events, envelope = _split(history)
    codec_name = payload_codec or _recorded_codec(events, envelope)
    if start_input is None:
        start_input = recorded_start_input(events, codec_name)
    run_id = run_id or _recorded(envelope, events, "workflow_run_id", "run_id")
    workflow_id = workflow_id or _recorded(envelope, events, "workflow_instance_id", "workflow_id")
    outcome = replay(
        definition,
        events,
        start_input,
        run_id=run_id,
        workflow_id=workflow_id,
        payload_codec=codec_name,
    )
    _check_terminal(definition, run_id, events, outcome, codec_name)
    return outcome


def _resolved(
    history: Any, external_storage: ExternalStorageDriver | None, cache: ExternalPayloadCache | None
) -> Any:
    """``history`` with its external payloads fetched and verified through ``external_storage``."""
    if external_storage is not None:
        return PayloadResolver(external_storage, cache).resolve(history)
    if holds_reference(history):
        raise ValueError(
            "the history holds externally stored payloads: pass external_storage=<driver> to read them"
        )
    return history


def replay_history(
    workflow_cls: Any,
    events: Any,
    start_input: Any = None,
    *,
    run_id: str = "",
    payload_codec: str | None = None,
    external_storage: ExternalStorageDriver | None = None,
    external_storage_cache: ExternalPayloadCache | None = None,
) -> list[Command]:
    """Replay a captured history against the current code of ``workflow_cls``.

    Args:
        workflow_cls: The ``@workflow.defn`` class (or function).
        events: The history: a list of events (``get_history(...)["events"]``), or a dict
            holding one under ``events`` / ``history_events`` (export bundles) / ``history``.
        start_input: The run's positional arguments; default: read from ``WorkflowStarted``.
        run_id: The run id (seeds ``ctx.random()``); default: read from ``WorkflowStarted``.
        payload_codec: Codec for values the history does not tag; default: the codec the
            history recorded (``None`` if it recorded none: values are JSON text).
        external_storage: The driver that reads payloads the history keeps as external-storage
            references (each is verified: ``ExternalPayloadIntegrityError`` when changed).
        external_storage_cache: Verified bytes kept across replays of histories sharing payloads.

    Returns:
        The commands the code would emit next (a terminal command for a finished run).

    Raises:
        NonDeterministicReplayError: The code yields something other than what history
            recorded, or ends differently than the recorded run ended.
    """
    definition = get_definition(workflow_cls)
    history = _resolved(events, external_storage, external_storage_cache)
    return _replay_checked(
        definition, history, start_input, workflow_id=None, run_id=run_id, payload_codec=payload_codec
    ).commands


def load_history_file(path: str | PathLike[str]) -> Any:
    """Read a JSON history file: a top-level event list, or a dict with an ``events`` key."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def replay_history_file(
    workflow_cls: Any,
    path: str | PathLike[str],
    start_input: Any = None,
    *,
    run_id: str = "",
    payload_codec: str | None = None,
    external_storage: ExternalStorageDriver | None = None,
    external_storage_cache: ExternalPayloadCache | None = None,
) -> list[Command]:
    """:func:`replay_history` on a JSON file (an event list, or a dict with ``events``)."""
    return replay_history(
        workflow_cls,
        load_history_file(path),
        start_input,
        run_id=run_id,
        payload_codec=payload_codec,
        external_storage=external_storage,
        external_storage_cache=external_storage_cache,
    )


class Replayer:
    """Replay captured histories of several workflow types with one registration.

    Args:
        workflows: The ``@workflow.defn`` classes histories may belong to.
        external_storage: Reads payloads the histories keep as external-storage references.
        external_storage_cache: Verified bytes shared across replays (a 128-entry, 16 MiB cache
            when a driver is given without one).

    Raises:
        ValueError: ``workflows`` is empty or registers a type name twice.
    """

    def __init__(
        self,
        *,
        workflows: Sequence[Any],
        external_storage: ExternalStorageDriver | None = None,
        external_storage_cache: ExternalPayloadCache | None = None,
    ) -> None:
        self._external_storage = external_storage
        if external_storage is not None and external_storage_cache is None:
            external_storage_cache = ExternalPayloadCache()
        self._external_storage_cache = external_storage_cache
        if not workflows:
            raise ValueError("Replayer needs at least one workflow class")
        self._workflows: dict[str, WorkflowDefinition] = {}
        for workflow_cls in workflows:
            definition = get_definition(workflow_cls)
            if definition.name in self._workflows:
                raise ValueError(f"workflow type {definition.name!r} is registered twice")
            self._workflows[definition.name] = definition

    def replay(
        self,
        history: Any,
        start_input: Any = None,
        *,
        workflow_type: str | None = None,
        workflow_id: str | None = None,
        run_id: str = "",
        payload_codec: str | None = None,
    ) -> ReplayOutcome:
        """Replay one history; see :func:`replay_history` for the arguments.

        ``workflow_type`` defaults to the type ``WorkflowStarted`` recorded (or the only
        registered workflow); ``start_input`` to the input it recorded.

        Raises:
            ValueError: The history's type is not registered, or it cannot be told (several
                workflows registered, no ``workflow_type`` given, no ``WorkflowStarted``).
            NonDeterministicReplayError: See :func:`replay_history`.
        """
        history = _resolved(history, self._external_storage, self._external_storage_cache)
        events, envelope = _split(history)
        name = workflow_type or self._infer_type(events, envelope)
        definition = self._workflows.get(name)
        if definition is None:
            raise ValueError(
                f"history is of workflow type {name!r}, which is not registered "
                f"(registered: {sorted(self._workflows)})"
            )
        return _replay_checked(
            definition,
            history,
            start_input,
            workflow_id=workflow_id,
            run_id=run_id,
            payload_codec=payload_codec,
        )

    def _infer_type(self, events: Sequence[Mapping[str, Any]], envelope: Mapping[str, Any]) -> str:
        started = started_payload(events)
        recorded = (started or {}).get("workflow_type") or _recorded(
            envelope, events, "workflow_type", "workflow_type"
        )
        if recorded:
            return str(recorded)
        if len(self._workflows) == 1:
            return next(iter(self._workflows))
        raise ValueError(
            "cannot tell which workflow this history belongs to: pass workflow_type=... "
            f"(registered: {sorted(self._workflows)}); the history has no WorkflowStarted event naming it"
        )
