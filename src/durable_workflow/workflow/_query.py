"""Queries: answer a ``@workflow.query`` handler from the state a replay rebuilds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._definition import get_definition
from ._replay import replay


class UnknownQuery(LookupError):
    """The workflow has no ``@workflow.query`` handler of that name."""


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

    Queries never change history: the commands of the replay are discarded.

    Raises:
        UnknownQuery: No ``@workflow.query`` handler has that name.
        NonDeterministicReplayError: The history no longer replays.
    """
    definition = get_definition(workflow)
    attr = definition.queries.get(query_name)
    if attr is None:
        raise UnknownQuery(
            f"workflow {definition.name!r} has no query handler {query_name!r} "
            f"(known: {sorted(definition.queries)})"
        )
    outcome = replay(
        definition,
        history_events,
        start_input,
        run_id=run_id,
        workflow_id=workflow_id,
        payload_codec=payload_codec,
    )
    return getattr(outcome.workflow_instance, attr)(*query_args)
