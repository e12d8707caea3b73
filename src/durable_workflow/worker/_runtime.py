"""``TaskRuntime``: everything a task handler may use, handed to it explicitly.

The handlers in ``_workflow_tasks.py`` and ``_activity_tasks.py`` take this instead of the
``Worker``, so what they depend on is spelled out and they can be driven without one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .._external_payloads import PayloadResolver
from ..activity import ActivityDefinition
from ..interceptors import WorkerInterceptor
from ..workflow._definition import WorkflowDefinition
from ._eager import EagerHands
from ._plane import WorkerPlaneClient
from ._sticky import WorkflowCache


@dataclass(frozen=True)
class DeliveryPolicy:
    """How long and how often a task outcome is re-sent while the server cannot be reached.

    Attributes:
        retry_timeout: Seconds after which an unreachable server is given up on.
        backoff: The first delay between attempts, in seconds.
        backoff_max: The cap the doubling delay stops at.
    """

    retry_timeout: float = 60.0
    backoff: float = 0.5
    backoff_max: float = 5.0


@dataclass(frozen=True)
class TaskRuntime:
    """The worker's state a task handler reads (and the one thing it reports back).

    Attributes:
        client: Where outcomes and history requests go.
        worker_id: This worker's id (the default lease owner).
        task_queue: The queue polled (the default of a task that names none).
        workflows / activities: Registered definitions by type name.
        interceptors: Wrappers around task execution, outermost first.
        delivery: Retry policy for sending outcomes.
        notify_progress: Called with a workflow id once a task of that workflow completed.
        payloads: Resolves externally stored payloads in tasks and history pages (the client's
            driver and its verified-bytes cache, shared by every replay); ``None`` without one.
        eager: Reserves slots for tasks a completion may bring back and runs them (``None``: the
            server advertised no round-trip extension, or the worker uses none).
        cache: The sticky workflow cache (suspended replays between a run's tasks); ``None``
            or a zero-capacity cache replays every task's full history.
        sticky_completions: The server advertises sticky workflow tasks: a completion whose
            run's replay is kept says so (``sticky``), and the run's next task comes back here.
    """

    client: WorkerPlaneClient
    worker_id: str
    task_queue: str
    workflows: Mapping[str, WorkflowDefinition]
    activities: Mapping[str, ActivityDefinition]
    interceptors: Sequence[WorkerInterceptor]
    delivery: DeliveryPolicy
    notify_progress: Callable[[str], None]
    payloads: PayloadResolver | None = None
    eager: EagerHands | None = None
    cache: WorkflowCache | None = None
    sticky_completions: bool = False
