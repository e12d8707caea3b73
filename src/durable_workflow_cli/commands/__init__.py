"""``dw`` subcommands, one module per noun.

Each module exposes ``COMMANDS``, a tuple of commands made with ``command.command``; adding a
noun is a new module listed in ``MODULES`` below. Modules must not import the server package
(or rich, or the SDK client) at import time: ``dw --help`` loads every one of them.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from ..command import DwCommand
from . import (
    activity,
    bridge,
    cluster,
    completion,
    debug,
    doctor,
    env,
    namespace,
    replay,
    schedule,
    schedule_actions,
    schema,
    search_attribute,
    server,
    storage,
    system,
    task_queue,
    watch,
    worker,
    worker_tasks,
    workflow,
    workflow_messages,
)

if TYPE_CHECKING:
    from ..cli import DwGroup

MODULES: tuple[ModuleType, ...] = (workflow, workflow_messages, cluster, server, env, schema)
MODULES += (namespace, storage, schedule, schedule_actions, search_attribute)
MODULES += (task_queue, worker, worker_tasks, activity, bridge, system)
MODULES += (replay, doctor, watch, completion)
MODULES += (debug,)


def register_all(group: DwGroup) -> None:
    """Attach every command module's commands (and their aliases) to ``group``."""
    for module in MODULES:
        for command in module.COMMANDS:
            group.add_command(command)
            if isinstance(command, DwCommand) and command.name:
                for alias in command.spec.aliases:
                    group.add_alias(alias, command.name)
