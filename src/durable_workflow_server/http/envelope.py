"""Response envelopes per plane.

* control plane: header ``X-Durable-Workflow-Control-Plane-Version: 2`` on every response and
  the ``control_plane`` block on workflow-operation responses, success or error;
* worker plane: header ``X-Durable-Workflow-Protocol-Version`` and body keys ``protocol_version``
  / ``server_capabilities`` on every response, success or error;
* plain (``/health``, ``/ready``, ``/cluster/info``, ``/openapi.json``): plain JSON.

The plane and the workflow operation come from the matched route (see ``routing.py``), so
errors raised anywhere on a route (guards, handlers, the catch-all) carry the same envelope as
its successes. A request no route matched gets its plane from :func:`unrouted_plane`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from starlette.responses import JSONResponse

from durable_workflow.protocol import routes, versions

from ..settings import Settings
from . import contracts

PlaneName = Literal["control", "worker", "plain"]
_WORKER_PREFIX = routes.API_PREFIX + "/worker"

# What ``JSONResponse.render`` calls ``json.dumps`` with, as one encoder built once: ``dumps``
# with options builds a new ``JSONEncoder`` per call. The text is the same.
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode


class _Encoded(JSONResponse):
    """A JSON response whose body :meth:`Envelope.render` has already encoded (same headers)."""

    def render(self, content: Any) -> bytes:
        encoded: bytes = content
        return encoded


# The worker plane's closing keys, encoded for the last settings seen (one server has one): the
# capability block (some forty values) would otherwise be rebuilt and encoded for every answer.
_worker_tail: tuple[Settings, str] | None = None


def _worker_keys(settings: Settings) -> str:
    """``"protocol_version":...,"server_capabilities":{...}}``: the text closing a worker body."""
    global _worker_tail
    cached = _worker_tail
    if cached is not None and cached[0] is settings:
        return cached[1]
    keys = {
        "protocol_version": versions.WORKER_PROTOCOL_VERSION,
        "server_capabilities": contracts.server_capabilities(settings),
    }
    tail = _encode(keys)[1:]
    _worker_tail = (settings, tail)
    return tail


def _worker_body(body: dict[str, Any], settings: Settings) -> str:
    """``body`` with the worker plane's keys (where it lacks them) as JSON text.

    The same text as adding them with ``setdefault`` and encoding the whole: a dict keeps its
    keys in insertion order, so absent keys come last, in this order.
    """
    if "protocol_version" in body or "server_capabilities" in body:
        body.setdefault("protocol_version", versions.WORKER_PROTOCOL_VERSION)
        body.setdefault("server_capabilities", contracts.server_capabilities(settings))
        return _encode(body)
    text = _encode(body)
    return text[:-1] + ("," if body else "") + _worker_keys(settings)


def unrouted_plane(path: str) -> PlaneName:
    """The plane of a path no route matched: the worker plane's prefix, else the control plane."""
    if path == _WORKER_PREFIX or path.startswith(_WORKER_PREFIX + "/"):
        return "worker"
    return "control"


@dataclass(frozen=True)
class Envelope:
    """What a route's responses are wrapped in: its plane and, for workflow operations, its name."""

    plane: PlaneName
    operation: str | None = None  # a key of ``contracts.OPERATIONS``

    def render(
        self,
        status: int,
        body: dict[str, Any],
        settings: Settings,
        path_params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> JSONResponse:
        """Wrap ``body`` (its control-plane keys added in place) and build the response."""
        headers = dict(headers or {})
        if self.plane == "worker":
            headers[versions.WORKER_PROTOCOL_HEADER] = versions.WORKER_PROTOCOL_VERSION
            encoded = _worker_body(body, settings).encode("utf-8")
            return _Encoded(encoded, status_code=status, headers=headers)
        elif self.plane == "control":
            headers[versions.CONTROL_PLANE_HEADER] = versions.CONTROL_PLANE_VERSION
            if self.operation is not None:
                params = path_params or {}
                for key in ("workflow_id", "run_id"):
                    if key in params and key not in body:
                        body[key] = params[key]
                body["control_plane"] = control_plane_block(self.operation, body, params.get("name"))
        return _Encoded(_encode(body).encode("utf-8"), status_code=status, headers=headers)


def control_plane_block(
    operation: str, body: dict[str, Any], operation_name: str | None = None
) -> dict[str, Any]:
    """Build the ``control_plane`` object for a workflow-operation body."""
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
