"""The typed bodies of queries and query tasks (see docs/protocol.md, "Queries").

``QueryTaskBody`` extends ``protocol.wire.QueryTask`` with the keys this server also sends (the
task kind, and the update name of a pre-accept validation task).
"""

from __future__ import annotations

from typing import Any, TypedDict

from durable_workflow.protocol.wire import Envelope, QueryTask


class QueryTaskEvent(TypedDict):
    """A history event of a query task (the worker-plane item without ``namespace``)."""

    id: str
    sequence: int
    event_type: str
    payload: dict[str, Any]
    workflow_task_id: str | None
    workflow_command_id: str | None
    recorded_at: str


class QueryTaskBody(QueryTask, total=False):
    """The ``task`` of a query-task poll; ``update_name`` only on ``update_validation`` tasks."""

    query_task_kind: str
    history_events: list[QueryTaskEvent]  # type: ignore[misc]
    update_name: str


class QueryFailure(TypedDict, total=False):
    """A worker's refusal of a query task, as stored and handed to its caller."""

    message: str | None
    reason: str | None
    type: str | None
    stack_trace: str | None


class QueryTaskOutcomeResponse(TypedDict):
    """The answer of a query task's completion or failure."""

    query_task_id: str
    query_task_attempt: int
    outcome: str
    reason: str | None


class QueryResultBody(TypedDict):
    """``200`` of ``POST /workflows/{id}/query/{name}`` (``control_plane`` is added by ``http/``)."""

    workflow_id: str
    run_id: str
    target_scope: str
    query_name: str
    result: Any
    result_envelope: Envelope | None
    reason: None
