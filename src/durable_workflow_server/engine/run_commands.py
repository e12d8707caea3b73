"""``EngineAPI`` run commands: cancel, terminate, repair and archive (see docs/protocol.md).

Each opens one transaction, locks the run it targets (:func:`.targets.lock_target`: the
current run, the named run only if it is the current one) and hands it to the module that owns
the command: :mod:`.cancellation`, :mod:`.repair`, :mod:`.archive`.
"""

from __future__ import annotations

from . import archive as archiving
from . import cancellation
from . import repair as repairing
from .core import EngineCore
from .targets import ArchiveResultBody, CommandResultBody, RepairResultBody, lock_target


class RunCommands(EngineCore):
    """Cancel, terminate, repair and archive a workflow's current run."""

    async def cancel_workflow(
        self,
        namespace: str,
        workflow_id: str,
        *,
        run_id: str | None = None,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> CommandResultBody:
        async for txn in self._tx():
            async with txn as tx:
                target = await lock_target(tx, namespace, workflow_id, run_id)
                return await cancellation.close_by_command(
                    tx, target, "cancel", reason=reason, request_id=request_id
                )
        raise AssertionError("unreachable: every attempt returns or raises")

    async def terminate_workflow(
        self,
        namespace: str,
        workflow_id: str,
        *,
        run_id: str | None = None,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> CommandResultBody:
        async for txn in self._tx():
            async with txn as tx:
                target = await lock_target(tx, namespace, workflow_id, run_id)
                return await cancellation.close_by_command(
                    tx, target, "terminate", reason=reason, request_id=request_id
                )
        raise AssertionError("unreachable: every attempt returns or raises")

    async def repair_workflow(
        self, namespace: str, workflow_id: str, *, run_id: str | None = None, request_id: str | None = None
    ) -> RepairResultBody:
        async for txn in self._tx():
            async with txn as tx:
                target = await lock_target(tx, namespace, workflow_id, run_id)
                return await repairing.repair(tx, target, request_id=request_id)
        raise AssertionError("unreachable: every attempt returns or raises")

    async def archive_workflow(
        self,
        namespace: str,
        workflow_id: str,
        *,
        run_id: str | None = None,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> ArchiveResultBody:
        async for txn in self._tx():
            async with txn as tx:
                target = await lock_target(tx, namespace, workflow_id, run_id, require_open=False)
                return await archiving.archive(tx, target, reason=reason, request_id=request_id)
        raise AssertionError("unreachable: every attempt returns or raises")
