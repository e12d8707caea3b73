"""The OpenAPI 3.1 document, generated from the route table and its request models.

Served at ``GET /api/openapi.json``. Every served route is described with its parameters, its
request body schema (the same pydantic model the route validates with) and its responses,
errors included, so clients and fuzzers can be generated from it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from durable_workflow.protocol import routes, versions

from ..settings import Settings
from .routing import Call, Operation, Plane, Reply

_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")
_REF = "#/components/schemas/{model}"
_ERROR_TEXT = {
    400: "Malformed JSON, a missing or unsupported version header, or an invalid page token.",
    401: "Missing or invalid credentials.",
    403: "The credential's role may not call this route.",
    404: "Unknown route, namespace or resource.",
    405: "Method not allowed on this path.",
    409: "The request was refused in the current state.",
    412: "The worker must register first.",
    413: "The request body is too large.",
    415: "Request bodies must be JSON.",
    422: "Field validation failed.",
    500: "Server error.",
    503: "Not ready or degraded.",
}


def _error_schemas() -> dict[str, Any]:
    error = {
        "type": "object",
        "properties": {"message": {"type": "string"}, "reason": {"type": "string", "minLength": 1}},
        "required": ["message", "reason"],
        "additionalProperties": True,
    }
    field_errors = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
    # A 422 is a field-validation failure (``validation_failed``, with the field map) or another
    # refusal of a well-formed but unprocessable request (``invalid_after_sequence``,
    # ``external_storage_not_configured``, ...) that carries only its own context fields.
    validation = {
        "allOf": [{"$ref": _REF.format(model="Error")}],
        "properties": {"errors": field_errors, "validation_errors": field_errors},
        "if": {"properties": {"reason": {"const": "validation_failed"}}, "required": ["reason"]},
        "then": {"required": ["errors", "validation_errors"]},
    }
    return {"Error": error, "ValidationError": validation}


def _errors(operation: Operation, plane: Plane) -> list[int]:
    """The error statuses the route's guards and validation can answer."""
    statuses = [400, 404, 405, 413, 415, 500]  # body limits and routing apply to every route
    if plane.roles is not None:
        # 409 too: an engine refusal whose reason has no status of its own is a 409 on any route.
        statuses += [401, 403, 409]
    if operation.body is not None or operation.query is not None or "{" in operation.path:
        statuses.append(422)
    return sorted(statuses)


_WORKFLOW = {"workflow_id": "$response.body#/workflow_id"}
_RUN = {**_WORKFLOW, "run_id": "$response.body#/run_id"}
_SCHEDULE = {"schedule_id": "$response.body#/schedule_id"}
# OpenAPI links: from a success answer to the operations that act on what it names (the ids
# in its body). Clients may follow them; the fuzz tier's stateful run chains start → describe →
# signal → ... through them. Source operation id → link targets (operation id, parameters).
LINKS: dict[str, tuple[tuple[str, dict[str, str]], ...]] = {
    "start_workflow": (
        ("describe_workflow", _WORKFLOW),
        ("describe_run", _RUN),
        ("list_runs", _WORKFLOW),
        ("history", _RUN),
        ("signal_workflow", _WORKFLOW),
        ("signal_run", _RUN),
        ("query_workflow", _WORKFLOW),
        ("update_workflow", _WORKFLOW),
        ("cancel_workflow", _WORKFLOW),
        ("terminate_workflow", _WORKFLOW),
        ("pause_workflow", _WORKFLOW),
        ("debug_run", _RUN),
    ),
    "describe_workflow": (
        ("describe_run", _RUN),
        ("signal_workflow", _WORKFLOW),
        ("history", _RUN),
        ("resume_workflow", _WORKFLOW),
        ("repair_workflow", _WORKFLOW),
        ("archive_run", _RUN),
    ),
    "signal_workflow": (("describe_workflow", _WORKFLOW), ("history", _RUN)),
    "signal_run": (("describe_run", _RUN),),
    "cancel_workflow": (("describe_workflow", _WORKFLOW), ("terminate_run", _RUN)),
    "terminate_workflow": (("describe_workflow", _WORKFLOW), ("export_history", _RUN)),
    "create_schedule": (
        ("describe_schedule", _SCHEDULE),
        ("update_schedule", _SCHEDULE),
        ("pause_schedule", _SCHEDULE),
        ("trigger_schedule", _SCHEDULE),
        ("schedule_history", _SCHEDULE),
        ("delete_schedule", _SCHEDULE),
    ),
    "pause_schedule": (("resume_schedule", _SCHEDULE), ("describe_schedule", _SCHEDULE)),
}


def _links(operation: Operation) -> dict[str, Any]:
    return {
        target: {"operationId": target, "parameters": dict(parameters)}
        for target, parameters in LINKS.get(operation.operation_id, ())
    }


def _responses(operation: Operation, plane: Plane) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for status in operation.responses:
        schema = {"$ref": _REF.format(model="Error")} if status >= 400 else {"type": "object"}
        description = _ERROR_TEXT.get(status, "Success.") if status >= 300 else "Success."
        answers[str(status)] = {
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
        if 200 <= status < 300 and operation.operation_id in LINKS:
            answers[str(status)]["links"] = _links(operation)
    for status in _errors(operation, plane):
        model = "ValidationError" if status == 422 else "Error"
        answers.setdefault(
            str(status),
            {
                "description": _ERROR_TEXT[status],
                "content": {"application/json": {"schema": {"$ref": _REF.format(model=model)}}},
            },
        )
    return answers


def _parameters(operation: Operation, plane: Plane, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(operation.path)
    ]
    if operation.query is not None:
        schema = operation.query.model_json_schema(ref_template=_REF)
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": False, "schema": prop})
    if plane.name == "control":
        header = {"type": "string", "enum": [versions.CONTROL_PLANE_VERSION]}
        params.append(
            {"name": versions.CONTROL_PLANE_HEADER, "in": "header", "required": True, "schema": header}
        )
    elif plane.name == "worker":
        header = {"type": "string", "pattern": r"^1\.[0-9]+$"}
        params.append(
            {"name": versions.WORKER_PROTOCOL_HEADER, "in": "header", "required": True, "schema": header}
        )
    if plane.resolve_namespace:
        params.append(
            {
                "name": versions.NAMESPACE_HEADER,
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
            }
        )
    return params


def _without_null_defaults(value: Any) -> Any:
    """Drop ``"default": null``: it says only "optional", and some fields' schemas exclude null."""
    if isinstance(value, dict):
        return {k: _without_null_defaults(v) for k, v in value.items() if not (k == "default" and v is None)}
    if isinstance(value, list):
        return [_without_null_defaults(item) for item in value]
    return value


def build_document(planes: Sequence[Plane], settings: Settings) -> dict[str, Any]:
    """The OpenAPI document of every served operation of ``planes``."""
    served = [(op, plane) for plane in planes for op in plane.operations if op.served]
    bodies: list[type[BaseModel]] = []
    for op, _ in served:
        if op.body is not None and op.body not in bodies:
            bodies.append(op.body)
    _, definitions = models_json_schema([(model, "validation") for model in bodies], ref_template=_REF)
    schemas: dict[str, Any] = {**definitions.get("$defs", {}), **_error_schemas()}
    paths: dict[str, dict[str, Any]] = {}
    for op, plane in served:
        item: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [plane.title],
            "parameters": _parameters(op, plane, schemas),
            "responses": _responses(op, plane),
        }
        if plane.roles is not None:
            item["security"] = [{"bearer": []}]
        if op.body is not None:
            item["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": {"$ref": _REF.format(model=op.body.__name__)}}},
            }
        paths.setdefault(routes.API_PREFIX + op.path, {})[op.method.lower()] = item
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Durable Workflow server", "version": settings.version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    cleaned: dict[str, Any] = _without_null_defaults(document)
    return cleaned


@functools.lru_cache(maxsize=4)
def _document(version: str) -> dict[str, Any]:
    # Built once, not per request: pydantic's schema generation over every model is the costly
    # part, and of the settings only the version is read.
    from .table import PLANES  # the table includes this route, so it is read at call time

    return build_document(PLANES, Settings(version=version))


async def openapi_document(call: Call[Any]) -> Reply:
    # A shallow copy is enough: the plain envelope this route answers with adds no keys.
    return Reply(dict(_document(call.settings.version)))


OPERATION = Operation(
    "GET", routes.OPENAPI, "openapi", openapi_document, summary="This document (OpenAPI 3.1)."
)
