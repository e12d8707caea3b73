"""The worker plane's request path: the calls every ``/api/worker/*`` method makes.

One worker-plane call (the worker token and protocol header come with ``plane="worker"``), a call
about one leased task, a task's outcome, a long poll; and the helpers that shape their bodies.
The methods themselves are ``WorkerPlaneMixin``'s (``_worker_plane.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any, cast

from ..errors import PayloadError
from ..protocol import codec
from ..protocol.text import replace_surrogates, replace_surrogates_or_none
from ..protocol.wire import TaskOutcomeResponse
from ._base import BaseClient


def sdk_version_string() -> str:
    """``durable-workflow-python/<installed version>``, sent at worker registration."""
    try:
        version = metadata.version("durable-workflow")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        version = "0.0.0"
    return f"durable-workflow-python/{version}"


def without_none(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` without its ``None`` fields (left out of a request rather than sent as null)."""
    return {k: v for k, v in body.items() if v is not None}


def list_or_none(values: Sequence[str] | None) -> list[str] | None:
    """``values`` as a list, or ``None`` when not given."""
    return list(values) if values is not None else None


def dict_or_none(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``values`` as a dict, or ``None`` when not given or empty."""
    # Empty maps are left out too: the server treats "absent" and "{}" alike here.
    return dict(values) if values else None


def failure_text(message: str, failure_type: str | None, stack_trace: str | None) -> dict[str, Any]:
    """The free-text fields of a failure, made sendable (see ``protocol/text.py``)."""
    return without_none(
        {
            "message": replace_surrogates(message),
            "type": replace_surrogates_or_none(failure_type),
            "stack_trace": replace_surrogates_or_none(stack_trace),
        }
    )


class WorkerCallsMixin(BaseClient):
    """The request path under :class:`WorkerPlaneMixin`'s worker-plane methods."""

    async def _worker_call(
        self,
        route: str,
        body: Mapping[str, Any],
        *,
        operation: str,
        path_params: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        return await self._request_object(
            "POST",
            route,
            path_params=path_params,
            plane="worker",
            body=dict(body),
            timeout=timeout,
            operation=operation,
        )

    async def _task_call(
        self, route: str, task_id: str, body: Mapping[str, Any], operation: str, *, key: str = "task_id"
    ) -> dict[str, Any]:
        """A call about one leased task; ``key`` is the route's placeholder for its id."""
        return await self._worker_call(route, body, path_params={key: task_id}, operation=operation)

    async def _outcome_call(
        self, route: str, task_id: str, body: Mapping[str, Any], operation: str, *, key: str = "task_id"
    ) -> TaskOutcomeResponse:
        """A task's complete/fail call; the answer says whether (and why not) it was recorded."""
        answer = await self._task_call(route, task_id, body, operation, key=key)
        return cast("TaskOutcomeResponse", answer)

    async def _poll(
        self, route: str, operation: str, timeout: float | None, **fields: Any
    ) -> dict[str, Any] | None:
        """One long poll; returns the ``task`` object or ``None`` when the hold time passed empty."""
        data = await self._worker_call(
            route, without_none(fields), timeout=self.poll_timeout(timeout), operation=operation
        )
        task = data.get("task")
        return dict(task) if isinstance(task, Mapping) else None

    @staticmethod
    def _require_avro(codec_name: str) -> None:
        if codec_name != codec.AVRO:
            raise PayloadError(
                f"payload codec {codec_name!r} is not supported; use 'avro'", "unsupported_payload_codec"
            )
