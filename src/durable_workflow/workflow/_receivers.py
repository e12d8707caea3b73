"""Signals and updates: messages history delivers to handlers instead of to a ``yield``.

Both are *receivers*: ``SignalReceived`` runs the ``@workflow.signal`` handler, ``UpdateApplied``
re-runs the ``@workflow.update`` handler (to rebuild the state the update left behind). The
engine applies them in history order at deterministic points (see ``_replay``). Answering a
*new* update — validator, handler, ``complete_update``/``fail_update`` — is :func:`answer_update`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import NonDeterministicReplayError
from ..protocol.codec import PayloadCodecError
from ..protocol.history import EventType as E
from ._commands import Command, CompleteUpdate, FailUpdate
from ._definition import WorkflowDefinition
from ._history_compat import decode_value, event_payload, event_type

# The documented replay logger (see _context.REPLAY_LOGGER_NAME).
logger = logging.getLogger("durable_workflow.workflow.replay")


def as_args(value: Any) -> list[Any]:
    """A decoded argument payload as positional arguments (a scalar is one argument)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


@dataclass
class Receiver:
    """One signal or applied update, at its position in history."""

    index: int
    kind: str  # "signal" | "update"
    name: str
    args: list[Any]


def collect_receivers(
    events: Iterable[Mapping[str, Any]], codec: str | None, start: int = 0
) -> list[Receiver]:
    """Every ``SignalReceived`` and ``UpdateApplied`` of history, in history order.

    ``start`` is the history position of the first event given (a continued replay feeds only
    the events a new task added).
    """
    receivers: list[Receiver] = []
    for index, event in enumerate(events, start):
        etype = event_type(event)
        if etype == E.SIGNAL_RECEIVED:
            payload = event_payload(event)
            name = payload.get("signal_name")
            keys: tuple[str, ...] = ("value", "input", "arguments")
            kind = "signal"
        elif etype == E.UPDATE_APPLIED:
            payload = event_payload(event)
            name = payload.get("update_name")
            keys = ("arguments", "input")
            kind = "update"
        else:
            continue
        if not name:
            continue
        raw = next((payload[k] for k in keys if payload.get(k) is not None), None)
        receivers.append(Receiver(index, kind, str(name), as_args(decode_value(raw, payload, codec))))
    return receivers


class UnhandledSignal(NonDeterministicReplayError):
    """History delivers a signal the workflow code has no ``@workflow.signal`` handler for.

    The server admits any signal name (the worker decides), so a misspelt name or a worker
    running older code must not be dropped silently: the workflow *task* fails with a message
    naming the signal and the handlers the code has, and the run waits for a worker that can
    handle it (the signal stays in history).
    """


def apply_receiver(
    definition: WorkflowDefinition, instance: Any, receiver: Receiver, *, strict: bool = False
) -> None:
    """Run the handler of one receiver against the workflow object.

    A signal without a handler raises :class:`UnhandledSignal` when ``strict`` (the worker: the
    task fails), else it is ignored with a warning (replayer, harness, queries). An applied
    update whose handler no longer exists means the code changed incompatibly: the run handled
    it once.
    """
    if receiver.kind == "signal":
        attr = definition.signals.get(receiver.name)
        if attr is None:
            message = (
                f"workflow {definition.name!r} received signal {receiver.name!r} (history position "
                f"{receiver.index}) but has no @workflow.signal({receiver.name!r}) handler; "
                f"its signal handlers are {sorted(definition.signals)}"
            )
            if strict:
                raise UnhandledSignal(message, workflow_type=definition.name)
            logger.warning("%s; ignored", message)
            return
        if instance is not None:
            getattr(instance, attr)(*receiver.args)
        return
    attr = definition.updates.get(receiver.name)
    if attr is None or instance is None:
        raise NonDeterministicReplayError(
            f"workflow {definition.name!r}: history applied update {receiver.name!r} "
            f"(history position {receiver.index}), but the code has no @workflow.update({receiver.name!r}) "
            f"handler any more"
        )
    getattr(instance, attr)(*receiver.args)


def _accepted_update(events: Sequence[Mapping[str, Any]], update_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = None
    for event in events:
        if event_type(event) == E.UPDATE_ACCEPTED:
            payload = event_payload(event)
            if str(payload.get("update_id") or "") == update_id:
                found = payload  # the latest acceptance wins
    return found


def _failure(update_id: str, exc: BaseException) -> FailUpdate:
    return FailUpdate(update_id, str(exc) or type(exc).__name__, type(exc).__name__)


def answer_update(
    definition: WorkflowDefinition,
    instance: Any,
    events: Sequence[Mapping[str, Any]],
    update_id: str,
    codec: str | None,
) -> Command:
    """Validate and apply the accepted update ``update_id`` to the replayed workflow state.

    Returns exactly one command: ``CompleteUpdate`` with the handler's result, or ``FailUpdate``
    when the update is unknown, the validator refuses it (returns ``False`` or raises), or the
    handler raises.
    """
    payload = _accepted_update(events, update_id)
    if payload is None:
        return FailUpdate(
            update_id, f"update {update_id!r} is not accepted in this history", "UpdateNotFound"
        )
    name = str(payload.get("update_name") or "")
    attr = definition.updates.get(name)
    if attr is None or instance is None:
        return FailUpdate(
            update_id, f"workflow {definition.name!r} has no update handler {name!r}", "UnknownUpdate"
        )
    try:
        args = as_args(decode_value(payload.get("arguments"), payload, codec))
    except Exception as exc:
        return _failure(update_id, exc)
    validator = definition.update_validators.get(name)
    if validator is not None:
        try:
            verdict = getattr(instance, validator)(*args)
        except Exception as exc:
            return _failure(update_id, exc)
        if verdict is False:
            return FailUpdate(update_id, f"update {name!r} rejected by its validator", "UpdateRejected")
    try:
        result = getattr(instance, attr)(*args)
    except Exception as exc:
        return _failure(update_id, exc)
    answer = CompleteUpdate(update_id, result)
    try:
        answer.to_wire()
    except PayloadCodecError as exc:
        return FailUpdate(update_id, f"update result cannot be encoded: {exc}", "PayloadError")
    return answer
