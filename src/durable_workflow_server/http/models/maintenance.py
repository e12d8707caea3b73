"""Request models of the admin-only system maintenance routes (control-plane.md §8.9)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, PlainValidator, WithJsonSchema

from durable_workflow.protocol.maintenance import ID_MAX_LENGTH, MAX_IDS, SCAN_LIMIT

from .. import fields as f
from . import RequestModel


def _ids(value: Any) -> list[str] | None:
    """A list of at most ``MAX_IDS`` ids, each a string of 1 to ``ID_MAX_LENGTH`` characters."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise f.problem("array")
    if len(value) > MAX_IDS:
        raise f.problem("max_items", max=MAX_IDS)
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > ID_MAX_LENGTH:
            raise f.problem("id_items", max=ID_MAX_LENGTH)
    return value


def _cap(value: Any) -> Any:
    """Limits above the cap are capped, as the reference server does; below 1 is an error."""
    number = f.as_int(value)
    return SCAN_LIMIT if number is not None and number > SCAN_LIMIT else value


IdList = Annotated[
    list[str] | None,
    PlainValidator(_ids),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "array",
                    "maxItems": MAX_IDS,
                    "items": {"type": "string", "minLength": 1, "maxLength": ID_MAX_LENGTH},
                },
                {"type": "null"},
            ]
        }
    ),
]
Limit = Annotated[int | None, f.Integer(minimum=1, maximum=SCAN_LIMIT), BeforeValidator(_cap)]
InstanceId = Annotated[str | None, f.Text(max_len=ID_MAX_LENGTH)]


class RepairPassBody(RequestModel):
    """``POST /system/repair/pass``: narrow the sweep to runs or to one instance (both optional)."""

    run_ids: IdList = None
    instance_id: InstanceId = None


class RetentionPassBody(RequestModel):
    """``POST /system/retention/pass``: the runs to consider and how many at most."""

    run_ids: IdList = None
    limit: Limit = None


class ActivityTimeoutPassBody(RequestModel):
    """``POST /system/activity-timeouts/pass``: the executions to consider and how many at most."""

    execution_ids: IdList = None
    limit: Limit = None


class ScanQuery(RequestModel):
    """``GET /system/retention`` and ``GET /system/activity-timeouts``: ``limit`` (capped at 100)."""

    limit: Limit = None
