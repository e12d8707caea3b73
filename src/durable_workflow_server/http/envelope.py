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


#: An answer ready for the wire: status, raw ASGI headers and the encoded body.
Prepared = tuple[int, list[tuple[bytes, bytes]], bytes]

_JSON_TYPE = (b"content-type", b"application/json")
# A plane's header: its name and value as the response dict has them, and as one raw pair.
_PlaneHeader = tuple[str, str, tuple[bytes, bytes]]


def _plane_header(name: str, value: str) -> _PlaneHeader:
    return name, value, (name.lower().encode("latin-1"), value.encode("latin-1"))


_WORKER_HEADER = _plane_header(versions.WORKER_PROTOCOL_HEADER, versions.WORKER_PROTOCOL_VERSION)
_CONTROL_HEADER = _plane_header(versions.CONTROL_PLANE_HEADER, versions.CONTROL_PLANE_VERSION)


def _raw_headers(
    status: int, body: bytes, plane: _PlaneHeader | None, extra: Mapping[str, str] | None
) -> list[tuple[bytes, bytes]]:
    """The raw headers Starlette's ``JSONResponse(headers=...)`` builds, in its order: the given
    headers (the plane's last), then ``content-length`` and ``content-type`` unless given."""
    if not extra:
        raw = [plane[2]] if plane is not None else []
        given_length = given_type = False
    else:
        merged = dict(extra)
        if plane is not None:
            merged[plane[0]] = plane[1]
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in merged.items()]
        keys = [key for key, _ in raw]
        given_length, given_type = b"content-length" in keys, b"content-type" in keys
    if not given_length and not (status < 200 or status in (204, 304)):
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
    if not given_type:
        raw.append(_JSON_TYPE)
    return raw


class _Encoded(JSONResponse):
    """A JSON response whose status, raw headers and body :meth:`Envelope.encode` built."""

    def __init__(self, prepared: Prepared) -> None:  # no super().__init__: nothing left to build
        self.status_code, self.raw_headers, self.body = prepared
        self.background = None


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
        return _Encoded(self.encode(status, body, settings, path_params, headers))

    def encode(
        self,
        status: int,
        body: dict[str, Any],
        settings: Settings,
        path_params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Prepared:
        """What :meth:`render` answers, as status, raw headers and bytes (no response object)."""
        if self.plane == "worker":
            encoded = _worker_body(body, settings).encode("utf-8")
            return status, _raw_headers(status, encoded, _WORKER_HEADER, headers), encoded
        plane: _PlaneHeader | None = None
        if self.plane == "control":
            plane = _CONTROL_HEADER
            if self.operation is not None:
                params = path_params or {}
                for key in ("workflow_id", "run_id"):
                    if key in params and key not in body:
                        body[key] = params[key]
                body["control_plane"] = control_plane_block(self.operation, body, params.get("name"))
        encoded = _encode(body).encode("utf-8")
        return status, _raw_headers(status, encoded, plane, headers), encoded


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
