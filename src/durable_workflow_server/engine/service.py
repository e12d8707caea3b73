"""``Engine``: the facade ``http/`` calls (see :mod:`.api` for the contract of every method).

The implementation is split along the two planes: :mod:`.control` and :mod:`.worker_plane`, over
the shared :mod:`.core` (store, transactions, wake-ups, the background loop).
"""

from __future__ import annotations

from .api import EngineAPI
from .bridge.service import BridgeCommands
from .control import ControlPlane
from .external_storage.service import ExternalStorageCommands
from .maintenance.service import MaintenanceCommands
from .namespaces.service import NamespaceCommands
from .pausing import PauseCommands
from .queries.service import QueryTasks
from .run_commands import RunCommands
from .schedules.service import ScheduleCommands
from .search_attributes.service import SearchAttributeCommands
from .signals.plane import SignalCommands
from .task_queues.service import TaskQueueCommands
from .updates.service import UpdateCommands
from .worker_plane import WorkerPlane


class Engine(
    ControlPlane,
    RunCommands,
    WorkerPlane,
    SignalCommands,
    UpdateCommands,
    QueryTasks,
    PauseCommands,
    NamespaceCommands,
    ExternalStorageCommands,
    ScheduleCommands,
    SearchAttributeCommands,
    TaskQueueCommands,
    MaintenanceCommands,
    BridgeCommands,
):
    """The durable-workflow engine over one :class:`~durable_workflow_server.store.Store`.

    ``Engine(settings)``; ``await engine.open()`` before use and ``await engine.close()`` after.
    """


__all__ = ["Engine"]


def _conforms(engine: Engine) -> EngineAPI:
    """Static check (mypy): ``Engine`` implements every method of the ``EngineAPI`` protocol."""
    return engine
