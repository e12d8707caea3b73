"""What a worker holds: the tasks every poll names (``held_task_ids``) and workflow-task renewals.

Every poll names the tasks of its kind this worker holds, so the server hands back at once a
task leased to it that it does not hold (a poll answer lost on the way). A workflow task's lease
(10 s on our server) is renewed while its handler runs, so a slow replay does not lose it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..errors import ServerError
from ._plane import WorkerPlaneClient

logger = logging.getLogger("durable_workflow.worker")

# The workflow-task lease assumed when a task does not say when its lease ends.
DEFAULT_WORKFLOW_TASK_LEASE = 10.0


@dataclass(frozen=True)
class Lease:
    """A workflow task's lease, as far as renewing it goes."""

    task_id: str
    lease_owner: str
    attempt: int
    seconds: float  # its length, as the poll answer gave it (server clock minus ours at receipt)
    received: float  # time.monotonic() at receipt

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Lease | None:
        task_id, owner, attempt = raw.get("task_id"), raw.get("lease_owner"), raw.get("workflow_task_attempt")
        if not isinstance(task_id, str) or not isinstance(owner, str) or not isinstance(attempt, int):
            return None  # malformed: the handler reports it, there is nothing to renew
        seconds = DEFAULT_WORKFLOW_TASK_LEASE
        expires = raw.get("lease_expires_at")
        if isinstance(expires, str):
            try:
                left = datetime.fromisoformat(expires.replace("Z", "+00:00")) - datetime.now(timezone.utc)
                # Clocks differ a little; a nonsense answer falls back to the default.
                if 1.0 <= left.total_seconds() <= 3600.0:
                    seconds = left.total_seconds()
            except ValueError:
                pass
        return cls(task_id, owner, attempt, seconds, time.monotonic())


class HeldTasks:
    """The tasks of each polled kind this worker holds, for the ``held_task_ids`` of its polls.

    A task is held while its handler runs; a workflow task left to its lease on purpose (it
    produced no commands) stays held until that lease would end, so the server does not hand
    it straight back and redeliver it in a hot loop.
    """

    def __init__(self, kinds: Iterable[str]) -> None:
        # Value: None while it runs, or the monotonic time until which it is still ours.
        self._held: dict[str, dict[str, float | None]] = {kind: {} for kind in kinds}

    def hold(self, kind: str, task_id: str) -> None:
        if kind in self._held:
            self._held[kind][task_id] = None

    def ids(self, kind: str) -> list[str]:
        """The ``held_task_ids`` of a ``kind`` poll: running tasks and those left to their lease."""
        held = self._held[kind]
        now = time.monotonic()
        for task_id in [t for t, until in held.items() if until is not None and until <= now]:
            del held[task_id]
        return sorted(held)

    def done(self, kind: str, task_id: str, lease: Lease | None, outcome: str) -> None:
        """The handler of ``task_id`` returned with ``outcome``."""
        held = self._held.get(kind)
        if held is None:
            return
        if outcome == "skipped" and lease is not None:
            # Left to its lease on purpose: handing it back now would redeliver it at once.
            held[task_id] = lease.received + lease.seconds
        else:
            held.pop(task_id, None)


async def renew(client: WorkerPlaneClient, lease: Lease) -> None:
    """Renew a workflow task's lease every third of it until cancelled (its handler returned).

    A slow replay (a long history, a busy machine) must not lose its lease halfway: with 10 s
    leases the server would hand the task to another worker and fence this one off.
    """
    interval = max(lease.seconds / 3, 0.1)
    while True:
        await asyncio.sleep(interval)
        try:
            answer = await client.heartbeat_workflow_task(
                task_id=lease.task_id, lease_owner=lease.lease_owner, workflow_task_attempt=lease.attempt
            )
        except ServerError as exc:
            logger.info("workflow task %s lease not renewed: %s", lease.task_id, exc)
            return  # the lease is gone (completed, expired, handed back): nothing to keep
        except Exception as exc:  # transport trouble: the next renewal tries again
            logger.warning("workflow task %s lease renewal failed: %s", lease.task_id, exc)
            continue
        if answer.get("renewed") is False:
            return
