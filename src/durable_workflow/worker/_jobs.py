"""``Job``: a polled (or eagerly handed) task bound to its handler, and the worker's task kinds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from ..protocol.wire import ActivityTask, QueryTask, WorkflowTask
from ._activity_tasks import handle_activity_task
from ._leases import Lease
from ._query_tasks import handle_query_task
from ._runtime import TaskRuntime
from ._workflow_tasks import handle_workflow_task

# The task kinds a worker polls; also the ``task_kind`` metrics tag and the slot names.
WORKFLOW = "workflow"
ACTIVITY = "activity"
QUERY = "query"


@dataclass(frozen=True)
class Job:
    """A polled task bound to its handler; ``task_id`` names it in logs."""

    task_id: str
    handle: Callable[[TaskRuntime], Awaitable[str]]
    lease: Lease | None = None  # a workflow task's lease, renewed while it runs


def job_of(kind: str, raw: Mapping[str, Any]) -> Job:
    """A polled (or eagerly handed) workflow or activity task bound to its handler."""
    task_id = str(raw.get("task_id"))
    if kind == WORKFLOW:
        task = cast("WorkflowTask", raw)
        return Job(task_id, partial(handle_workflow_task, raw=task), Lease.of(raw))
    return Job(task_id, partial(handle_activity_task, raw=cast("ActivityTask", raw)))


def query_job(raw: QueryTask) -> Job:
    """A polled query task bound to its handler (query tasks hold no lease to renew)."""
    return Job(str(raw.get("query_task_id")), partial(handle_query_task, raw=raw))
