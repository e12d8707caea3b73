"""Worker interceptors: wrappers around workflow tasks, activities and query tasks.

Interceptors run in the order given to ``Worker(interceptors=[...])``; the first is the
outermost wrapper and must call ``next(context)`` to continue the chain::

    class AuditInterceptor(PassthroughWorkerInterceptor):
        async def execute_activity(self, context, next):
            print("activity started", context.activity_type, context.worker_id)
            return await next(context)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

C = TypeVar("C")
R = TypeVar("R")


@dataclass
class WorkflowTaskInterceptorContext:
    """A leased workflow task about to be replayed.

    ``task`` is the task as the server sent it. On a server with sticky workflow tasks, the task
    of a run this worker keeps cached carries only the events after what its replay has seen
    (``history_after_sequence`` says from where; ``Worker(max_cached_workflows=0)`` turns the
    cache, and so partial tasks, off): an interceptor that reads ``history_events`` for tracing
    or auditing sees that part only.
    """

    worker_id: str
    task_queue: str
    task: Mapping[str, Any]


@dataclass
class ActivityInterceptorContext:
    """An activity attempt about to run; ``args`` are the decoded positional arguments."""

    worker_id: str
    task_queue: str
    task: Mapping[str, Any]
    activity_type: str
    args: list[Any] = field(default_factory=list)


@dataclass
class QueryTaskInterceptorContext:
    """A leased query task about to be answered."""

    worker_id: str
    task_queue: str
    task: Mapping[str, Any]


WorkflowTaskNext = Callable[[WorkflowTaskInterceptorContext], Awaitable["list[dict[str, Any]] | None"]]
ActivityNext = Callable[[ActivityInterceptorContext], Awaitable[Any]]
QueryTaskNext = Callable[[QueryTaskInterceptorContext], Awaitable["str | None"]]


@runtime_checkable
class WorkerInterceptor(Protocol):
    """Implement all three hooks; see :class:`PassthroughWorkerInterceptor` for a base class."""

    async def execute_workflow_task(
        self, context: WorkflowTaskInterceptorContext, next: WorkflowTaskNext
    ) -> list[dict[str, Any]] | None:
        """Wrap a workflow task; ``next`` returns the wire commands (or ``None``)."""
        ...

    async def execute_activity(self, context: ActivityInterceptorContext, next: ActivityNext) -> Any:
        """Wrap one activity attempt; ``next`` returns the activity's decoded result."""
        ...

    async def execute_query_task(
        self, context: QueryTaskInterceptorContext, next: QueryTaskNext
    ) -> str | None:
        """Wrap a query task; ``next`` returns the encoded query result."""
        ...


class PassthroughWorkerInterceptor:
    """Calls ``next`` in every hook; subclass it and override only what you need."""

    async def execute_workflow_task(
        self, context: WorkflowTaskInterceptorContext, next: WorkflowTaskNext
    ) -> list[dict[str, Any]] | None:
        return await next(context)

    async def execute_activity(self, context: ActivityInterceptorContext, next: ActivityNext) -> Any:
        return await next(context)

    async def execute_query_task(
        self, context: QueryTaskInterceptorContext, next: QueryTaskNext
    ) -> str | None:
        return await next(context)


def build_chain(
    interceptors: Sequence[Any],
    hook: str,
    terminal: Callable[[C], Awaitable[R]],
) -> Callable[[C], Awaitable[R]]:
    """Compose ``interceptors`` around ``terminal`` so the first interceptor runs first."""
    chain = terminal
    for interceptor in reversed(interceptors):
        method = getattr(interceptor, hook, None)
        if method is None:
            continue

        def link(
            context: C, _method: Any = method, _next: Callable[[C], Awaitable[R]] = chain
        ) -> Awaitable[R]:
            result: Awaitable[R] = _method(context, _next)
            return result

        chain = link
    return chain


__all__ = [
    "ActivityInterceptorContext",
    "PassthroughWorkerInterceptor",
    "QueryTaskInterceptorContext",
    "WorkerInterceptor",
    "WorkflowTaskInterceptorContext",
]
