"""Typed answers of a query and an update, for callers that need more than the decoded result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._fields import opt_text


@dataclass(frozen=True)
class QueryResult:
    """The answer to a query.

    Attributes:
        result: The query handler's decoded result (what ``query_workflow`` returns).
        workflow_id: The workflow queried (the server's, else the one asked for).
        run_id: The run that answered, when the server names it.
        query_name: The query's name.
        raw: The whole response body, as the server sent it.
    """

    result: Any
    workflow_id: str
    query_name: str
    run_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class UpdateResult:
    """The answer to an update.

    Attributes:
        result: The update handler's decoded result once completed, else ``None``.
        workflow_id: The workflow updated.
        update_name: The update's name.
        update_id: The server's id of the update.
        run_id: The run the update was recorded on.
        outcome: ``update_accepted`` / ``update_completed`` / ``update_failed`` ... as sent.
        command_status: ``accepted`` or ``rejected``.
        update_status: ``accepted``, ``completed``, ``failed`` ... as sent.
        raw: The whole response body, as the server sent it.
    """

    result: Any
    workflow_id: str
    update_name: str
    update_id: str | None = None
    run_id: str | None = None
    outcome: str | None = None
    command_status: str | None = None
    update_status: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, result: Any, workflow_id: str, update_name: str
    ) -> UpdateResult:
        """Build from an update response body and its already decoded ``result``."""
        return cls(
            result=result,
            workflow_id=opt_text(data, "workflow_id") or workflow_id,
            update_name=opt_text(data, "update_name") or update_name,
            update_id=opt_text(data, "update_id"),
            run_id=opt_text(data, "run_id"),
            outcome=opt_text(data, "outcome"),
            command_status=opt_text(data, "command_status"),
            update_status=opt_text(data, "update_status"),
            raw=dict(data),
        )
