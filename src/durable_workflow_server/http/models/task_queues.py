"""Request models of the task-queue, build-id and worker-registry routes (control-plane.md §8.4, §8.6)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema, model_validator

from .. import fields as f
from .. import limits
from . import RequestModel

# The statuses ``GET /workers`` reports, and so filters on (see engine/workers/views.py).
WORKER_STATUSES = ("active", "draining", "stale")


def _build_id(value: Any) -> str | None:
    if value is f.ABSENT:
        raise f.problem("required")
    return f.text_check(max_len=limits.NAME_LENGTH)(value)


class BuildIdBody(RequestModel):
    """``POST /task-queues/{task_queue}/build-ids/{drain|resume|promote}``.

    ``build_id`` must be present; ``null`` or a blank string names the unversioned cohort.
    """

    build_id: Annotated[
        str | None,
        PlainValidator(_build_id),
        WithJsonSchema({"anyOf": [{"type": "string", "maxLength": limits.NAME_LENGTH}, {"type": "null"}]}),
    ]

    @model_validator(mode="before")
    @classmethod
    def _present(cls, data: Any) -> Any:
        # Absent is an error, unlike null (the unversioned cohort).
        if isinstance(data, dict) and "build_id" not in data:
            return {**data, "build_id": f.ABSENT}
        return data


class ListWorkersQuery(RequestModel):
    """``GET /workers`` query parameters."""

    task_queue: Annotated[str | None, f.Text(max_len=limits.NAME_LENGTH)] = None
    status: Annotated[str | None, f.Text(choices=WORKER_STATUSES)] = None
