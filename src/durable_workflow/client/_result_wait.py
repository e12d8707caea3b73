"""Waiting for a workflow's close on the server rather than by polling describe.

A server that serves ``GET /workflows/{id}?wait_seconds=N`` says so on its start and describe
answers (``RESULT_WAIT_HEADER``: the longest wait it holds; also ``capabilities.
workflow_result_wait`` in cluster info), so the client learns it from answers it gets anyway:
no extra request. ``Client.get_result`` then sends waits: the server answers when the current
run closed for good, or after the wait with the run still open, and the client asks again.
Servers that never said so (SDK 0.4.84's, fakes) are polled with describe as before.
"""

from __future__ import annotations

import asyncio
import logging

from ..errors import TransportError
from ..protocol import routes
from ._base import POLL_TIMEOUT_MARGIN_SECONDS, BaseClient
from ._results import WorkflowExecution

logger = logging.getLogger("durable_workflow.client")

# Statuses after which a run never changes again (``canceled`` is a spelling seen in the wild).
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "canceled", "terminated"})


def closed_for_good(execution: WorkflowExecution) -> bool:
    """Closed, and not continued as new (a continued run's successor carries the result)."""
    return execution.status in TERMINAL_STATUSES and execution.closed_reason != "continued"


class ResultWaitMixin(BaseClient):
    """The server-side wait behind :meth:`Client.get_result`."""

    async def _wait_closed(
        self, workflow_id: str, remaining: float, poll_interval: float
    ) -> WorkflowExecution | None:
        """One waited describe of at most ``remaining`` whole seconds (``remaining`` >= 1).

        ``None`` when the server could not be reached (restarting, say): the caller asks again
        while its own deadline allows. An answer of a still open run that came back well before
        the wait ended (a server shutting down answers its waits at once) is followed by a pause
        of ``poll_interval``, so a server that keeps answering early is polled, never hammered.
        """
        loop = asyncio.get_running_loop()
        hold = self._result_wait_hold or 1.0
        wait = max(1, int(min(remaining, max(hold, 1.0))))
        started = loop.time()
        try:
            data = await self._request_object(
                "GET",
                routes.WORKFLOW,
                path_params={"workflow_id": workflow_id},
                params={"wait_seconds": wait},
                operation="describe",
                timeout=max(self.timeout, wait + POLL_TIMEOUT_MARGIN_SECONDS),
            )
        except TransportError as exc:
            if remaining - (loop.time() - started) <= poll_interval:
                raise  # no time left to ask again
            logger.warning("waiting for workflow %s: %s; asking again", workflow_id, exc)
            data = None
        execution = WorkflowExecution.from_dict(data) if data is not None else None
        # The server holds a wait min(wait, hold): an answer before half of that came early.
        on_time = loop.time() - started >= min(wait, hold) / 2
        if execution is not None and (closed_for_good(execution) or on_time):
            return execution
        left = remaining - (loop.time() - started)
        if left > 0:
            await asyncio.sleep(min(poll_interval, left))
        return execution
