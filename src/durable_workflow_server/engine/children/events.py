"""Payloads of the child events in the parent's history (pure; keys as in docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from ...store.rows import ChildLinkRow, RunRow
from ..util import rfc3339


def link_fields(link: ChildLinkRow, child: RunRow) -> dict[str, Any]:
    """What every child event of the parent carries: the step, the link and the child run."""
    return {
        "sequence": link["sequence"],
        "workflow_link_id": link["link_id"],
        "child_call_id": None,
        "child_workflow_instance_id": link["child_workflow_id"],
        "child_workflow_run_id": child["run_id"],
        "child_workflow_class": link["child_workflow_type"],
        "child_workflow_type": link["child_workflow_type"],
        "child_run_number": child["run_number"],
        "parent_close_policy": link["parent_close_policy"],
        "retry_policy": link["retry_policy"],
        "timeout_policy": {
            "execution_timeout_seconds": link["execution_timeout_seconds"],
            "run_timeout_seconds": link["run_timeout_seconds"],
        },
    }


def run_started(
    link: ChildLinkRow,
    child: RunRow,
    *,
    retry_of: str | None = None,
    backoff_seconds: int | None = None,
) -> dict[str, Any]:
    """``ChildRunStarted``: a child run began (first start, retry or continue-as-new)."""
    return {
        **link_fields(link, child),
        "child_status": child["status"],
        "execution_timeout_seconds": child["execution_timeout_seconds"],
        "run_timeout_seconds": child["run_timeout_seconds"],
        "execution_deadline_at": rfc3339(child["execution_deadline_at"]),
        "run_deadline_at": rfc3339(child["run_deadline_at"]),
        "retry_attempt": link["attempt"],
        "retry_of_child_workflow_run_id": retry_of,
        "retry_backoff_seconds": backoff_seconds,
    }


def run_closed(link: ChildLinkRow, child: RunRow) -> dict[str, Any]:
    """The keys every ``ChildRun{Completed,Failed,Cancelled,Terminated}`` carries."""
    return {
        **link_fields(link, child),
        "child_status": child["status"],
        "closed_reason": child["closed_reason"],
        "closed_at": rfc3339(child["closed_at"]),
    }


def parent_started(link: ChildLinkRow, parent_workflow_id: str) -> dict[str, Any]:
    """The parent keys of a child run's ``WorkflowStarted``."""
    return {
        "parent_workflow_instance_id": parent_workflow_id,
        "parent_workflow_run_id": link["parent_run_id"],
        "parent_sequence": link["sequence"],
        "workflow_link_id": link["link_id"],
        "child_call_id": None,
        "retry_policy": link["retry_policy"],
        "parent_close_policy": link["parent_close_policy"],
    }
