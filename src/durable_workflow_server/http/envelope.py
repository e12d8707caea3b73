"""Response envelopes per plane.

* control plane: header ``X-Durable-Workflow-Control-Plane-Version: 2`` on every response and
  the ``control_plane`` block on workflow-operation responses, success or error (control-plane.md §5.4);
* worker plane: header ``X-Durable-Workflow-Protocol-Version`` and body keys ``protocol_version`` /
  ``server_capabilities`` on every response, success or error (worker-plane.md §1.2);
* ``/health``, ``/ready``, ``/cluster/info``: plain JSON.

The plane and the operation are derived from the request path, so error responses raised
anywhere (guards, handlers, routing, the catch-all) get the same envelope as successes.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse

from durable_workflow.protocol import routes, versions

from ..settings import Settings
from . import contracts

Plane = Literal["control", "worker", "plain"]

_PLAIN_PATHS = frozenset(routes.API_PREFIX + p for p in (routes.HEALTH, routes.READY, routes.CLUSTER_INFO))
_WORKER_PREFIX = routes.API_PREFIX + "/worker/"

_SEG = r"([^/]+)"
_RUN = rf"(?:/runs/{_SEG})?"
# (method, pattern, operation); a ``name`` group carries a signal/query/update name.
_OPERATION_PATTERNS: list[tuple[str, re.Pattern[str], str | None]] = [
    ("GET", re.compile(r"^/workflows/?$"), "list"),
    ("POST", re.compile(r"^/workflows/?$"), "start"),
    ("GET", re.compile(rf"^/workflows/{_SEG}$"), "describe"),
    ("GET", re.compile(rf"^/workflows/{_SEG}/runs$"), "list_runs"),
    ("GET", re.compile(rf"^/workflows/{_SEG}/runs/{_SEG}$"), "describe_run"),
    ("GET", re.compile(rf"^/workflows/{_SEG}{_RUN}/debug$"), "debug_workflow"),
    ("GET", re.compile(rf"^/workflows/{_SEG}/runs/{_SEG}/history$"), "history"),
    ("POST", re.compile(rf"^/workflows/{_SEG}{_RUN}/(signal|query|update)/(?P<name>.*)$"), None),
    ("POST", re.compile(rf"^/workflows/{_SEG}{_RUN}/(cancel|terminate|repair|archive)$"), None),
]


def plane_of(path: str) -> Plane:
    if path in _PLAIN_PATHS:
        return "plain"
    if path.startswith(_WORKER_PREFIX) or path == _WORKER_PREFIX.rstrip("/"):
        return "worker"
    return "control"


def operation_for(method: str, path: str) -> tuple[str, str | None, str | None, str | None] | None:
    """``(operation, workflow_id, run_id, operation_name)`` when the request is a workflow operation."""
    if not path.startswith(routes.API_PREFIX):
        return None
    sub = path[len(routes.API_PREFIX) :]
    for verb, pattern, operation in _OPERATION_PATTERNS:
        if verb != method:
            continue
        match = pattern.match(sub)
        if match is None:
            continue
        groups = match.groups()
        workflow_id = groups[0] if groups else None
        run_id = groups[1] if len(groups) > 1 else None
        name = match.groupdict().get("name")
        op = operation if operation is not None else groups[2]
        return op, workflow_id, run_id, name
    return None


def control_plane_block(
    operation: str, body: dict[str, Any], operation_name: str | None = None
) -> dict[str, Any]:
    """Build the ``control_plane`` object for a workflow-operation body (control-plane.md §5.4)."""
    name_field, required, success = contracts.OPERATIONS[operation]
    block: dict[str, Any] = {
        "schema": versions.RESPONSE_SCHEMA,
        "version": contracts.CONTRACT_VERSION,
        "operation": operation,
        "workflow_id": body.get("workflow_id"),
        "contract": {
            **contracts.contract_descriptor(),
            "required_fields": list(required),
            "success_fields": list(success),
        },
    }
    if name_field is not None and operation_name:
        block["operation_name"] = operation_name
        block["operation_name_field"] = name_field
    for field in contracts.PROJECTED_FIELDS:
        if field in body:
            block[field] = body[field]
    return block


def render(method: str, path: str, status: int, body: dict[str, Any], settings: Settings) -> JSONResponse:
    """Wrap ``body`` in the envelope of the plane ``path`` belongs to."""
    plane = plane_of(path)
    headers: dict[str, str] = {}
    if plane == "worker":
        body.setdefault("protocol_version", versions.WORKER_PROTOCOL_VERSION)
        body.setdefault("server_capabilities", contracts.server_capabilities(settings))
        headers[versions.WORKER_PROTOCOL_HEADER] = versions.WORKER_PROTOCOL_VERSION
    elif plane == "control":
        headers[versions.CONTROL_PLANE_HEADER] = versions.CONTROL_PLANE_VERSION
        found = operation_for(method, path)
        if found is not None:
            operation, workflow_id, run_id, name = found
            if workflow_id is not None and "workflow_id" not in body:
                body["workflow_id"] = workflow_id
            if run_id is not None and "run_id" not in body:
                body["run_id"] = run_id
            body["control_plane"] = control_plane_block(operation, body, name)
    return JSONResponse(body, status_code=status, headers=headers)


def respond(request: Request, body: dict[str, Any], status: int = 200) -> JSONResponse:
    """Render a route's body with its plane's envelope."""
    settings: Settings = request.app.state.settings
    return render(request.method, request.scope["path"], status, body, settings)
