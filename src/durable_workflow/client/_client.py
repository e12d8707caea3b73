"""The async ``Client``: transport plus the control-plane and worker-plane method groups."""

from __future__ import annotations

from ._bridge import BridgeMixin
from ._maintenance import MaintenanceMixin
from ._messages import WorkflowMessagesMixin
from ._namespaces import NamespacesMixin
from ._run_commands import RunCommandsMixin
from ._schedules import SchedulesMixin
from ._search_attributes import SearchAttributesMixin
from ._system import SystemMixin
from ._task_queues import TaskQueuesMixin
from ._worker_plane import WorkerPlaneMixin
from ._workflows import WorkflowsMixin


class Client(
    WorkflowsMixin,
    WorkflowMessagesMixin,
    RunCommandsMixin,
    SystemMixin,
    NamespacesMixin,
    SchedulesMixin,
    SearchAttributesMixin,
    TaskQueuesMixin,
    MaintenanceMixin,
    BridgeMixin,
    WorkerPlaneMixin,
):
    """Async client of a Durable Workflow server (control plane and worker plane).

    Use it as an async context manager so the connection pool is closed::

        async with Client("http://localhost:8080", token="dev-token") as client:
            handle = await client.start_workflow(workflow_type="greeter", task_queue="default",
                                                 input=["world"])
            print(await handle.result())

    See :class:`durable_workflow.client._base.BaseClient` for the constructor arguments.
    """

    async def __aenter__(self) -> Client:
        return self
