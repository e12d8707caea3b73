"""Queries and update validation: answered from the state a replay rebuilds, never recorded.

Both replay the committed history and then call one method of the rebuilt workflow object: the
``@workflow.query`` handler, or the ``.validator`` of an ``@workflow.update`` (run before the
server accepts the update). The commands of the replay are discarded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ._definition import WorkflowDefinition, get_definition
from ._replay import replay


class UnknownQuery(LookupError):
    """The workflow has no ``@workflow.query`` handler of that name."""


class UnknownUpdate(LookupError):
    """The workflow has no ``@workflow.update`` handler of that name."""


class HandlerFailed(Exception):
    """The query handler or update validator raised; the original exception is ``__cause__``."""


class UpdateRefused(Exception):
    """The update's validator refused it (it raised, or returned ``False``)."""


def _replayed(
    definition: WorkflowDefinition,
    history_events: Iterable[Mapping[str, Any]],
    start_input: Any,
    run_id: str,
    workflow_id: str,
    payload_codec: str | None,
) -> Any:
    outcome = replay(
        definition,
        history_events,
        start_input,
        run_id=run_id,
        workflow_id=workflow_id,
        payload_codec=payload_codec,
    )
    return outcome.workflow_instance


def _query_handler(
    workflow: Any,
    history_events: Iterable[Mapping[str, Any]],
    start_input: Any,
    query_name: str,
    run_id: str,
    workflow_id: str,
    payload_codec: str | None,
) -> Callable[..., Any]:
    """The query handler bound to the state the history replays to (name checked first)."""
    definition = get_definition(workflow)
    attr = definition.queries.get(query_name)
    if attr is None:
        raise UnknownQuery(
            f"workflow {definition.name!r} has no query handler {query_name!r} "
            f"(known: {sorted(definition.queries)})"
        )
    instance = _replayed(definition, history_events, start_input, run_id, workflow_id, payload_codec)
    handler: Callable[..., Any] = getattr(instance, attr)
    return handler


def query_workflow(
    workflow: Any,
    history_events: Iterable[Mapping[str, Any]],
    start_input: Any,
    query_name: str,
    query_args: Sequence[Any] = (),
    *,
    run_id: str = "",
    workflow_id: str = "",
    payload_codec: str | None = "avro",
) -> Any:
    """Replay the history, then answer query ``query_name`` from the rebuilt workflow state.

    Raises:
        UnknownQuery: No ``@workflow.query`` handler has that name.
        NonDeterministicReplayError: The history no longer replays.
        Exception: Whatever the handler raised.
    """
    handler = _query_handler(
        workflow, history_events, start_input, query_name, run_id, workflow_id, payload_codec
    )
    return handler(*query_args)


def answer_query(
    workflow: Any,
    history_events: Iterable[Mapping[str, Any]],
    start_input: Any,
    query_name: str,
    query_args: Sequence[Any] = (),
    *,
    run_id: str = "",
    workflow_id: str = "",
    payload_codec: str | None = "avro",
) -> Any:
    """:func:`query_workflow`, with the handler's own exception wrapped in :class:`HandlerFailed`.

    So a worker can tell "the handler raised" (the caller's ``QueryFailed`` carries its
    message) from "the history does not replay" (the workflow state is unavailable).
    """
    handler = _query_handler(
        workflow, history_events, start_input, query_name, run_id, workflow_id, payload_codec
    )
    try:
        return handler(*query_args)
    except Exception as exc:
        raise HandlerFailed(f"query handler {query_name!r} raised {type(exc).__name__}: {exc}") from exc


def validate_update(
    workflow: Any,
    history_events: Iterable[Mapping[str, Any]],
    start_input: Any,
    update_name: str,
    update_args: Sequence[Any] = (),
    *,
    run_id: str = "",
    workflow_id: str = "",
    payload_codec: str | None = "avro",
) -> None:
    """Replay the history, then run the validator of update ``update_name`` (if it has one).

    Raises:
        UnknownUpdate: No ``@workflow.update`` handler has that name.
        UpdateRefused: The validator raised or returned ``False`` (its message says why).
        NonDeterministicReplayError: The history no longer replays.
    """
    definition = get_definition(workflow)
    if update_name not in definition.updates:
        raise UnknownUpdate(
            f"workflow {definition.name!r} has no update handler {update_name!r} "
            f"(known: {sorted(definition.updates)})"
        )
    validator = definition.update_validators.get(update_name)
    if validator is None:
        return
    instance = _replayed(definition, history_events, start_input, run_id, workflow_id, payload_codec)
    try:
        verdict = getattr(instance, validator)(*update_args)
    except Exception as exc:
        raise UpdateRefused(str(exc) or type(exc).__name__) from exc
    if verdict is False:
        raise UpdateRefused(f"update {update_name!r} rejected by its validator")
