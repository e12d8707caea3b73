"""Each Client method sends the request the wire contract describes.

The expectations are the project's own fixture, ``tests/fixtures/requests/client-requests.json``,
written from the contract's route and body descriptions: one case per method (and per notable
option), each naming the HTTP method, the ``/api`` path, the query and the exact JSON body,
plus the headers every request of its plane carries (auth, namespace, the plane's version
header). Payload envelopes are compared by what they decode to, so the fixture stays readable.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow.client import Client
from durable_workflow.protocol import codec

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "requests" / "client-requests.json"
_DATA: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = _DATA["cases"]
HEADERS: dict[str, dict[str, str]] = _DATA["headers"]
# Every header either plane sends: each must have its plane's value, or be absent.
PINNED_HEADERS = sorted({name for plane in HEADERS.values() for name in plane})


def plane_of(path: str) -> str:
    return "worker" if path.startswith("/api/worker/") else "control"


def answer(case: dict[str, Any], request: httpx.Request) -> httpx.Response:
    """The case's answer, plus the version header and metadata a live server adds."""
    spec = case.get("answer") or {}
    body = dict(spec.get("body") or {})
    if request.url.path.startswith("/api/worker/"):
        body.setdefault("protocol_version", "1.1")
        body.setdefault("server_capabilities", {"long_poll_timeout": 30, "query_tasks": True})
        headers = {"X-Durable-Workflow-Protocol-Version": "1.1"}
    else:
        body.setdefault(
            "control_plane", {"schema": "durable-workflow.v2.control-plane-response", "version": 1}
        )
        headers = {"X-Durable-Workflow-Control-Plane-Version": "2"}
    return httpx.Response(spec.get("status", 200), json=body, headers=headers)


def matches(expected: Any, actual: Any, where: str = "body") -> None:
    """``actual == expected``, where ``{"$envelope": v}`` matches an avro envelope decoding to v."""
    if isinstance(expected, dict) and set(expected) == {"$envelope"}:
        assert isinstance(actual, dict) and set(actual) == {"codec", "blob"}, f"{where}: not an envelope"
        assert actual["codec"] == "avro", where
        assert codec.decode_envelope(actual) == expected["$envelope"], where
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: not an object"
        assert sorted(actual) == sorted(expected), f"{where}: keys differ"
        for key, value in expected.items():
            matches(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: list differs"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            matches(want, got, f"{where}[{index}]")
    else:
        assert type(actual) is type(expected) and actual == expected, f"{where}: {actual!r} != {expected!r}"


# Public coroutine methods of Client that the fixture does not cover, and why.
NOT_SINGLE_REQUESTS = {
    "aclose": "sends nothing",
    "get_result": "several requests (describe, then history pages); tests/sdk/client covers it",
}


def test_the_fixture_covers_every_request_method_of_the_client() -> None:
    methods = {
        name
        for name, member in inspect.getmembers(Client)
        if not name.startswith("_") and inspect.iscoroutinefunction(member)
    }
    assert len({case["name"] for case in CASES}) == len(CASES)
    assert {case["call"] for case in CASES} == methods - NOT_SINGLE_REQUESTS.keys()


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
async def test_client_sends_the_documented_request(case: dict[str, Any]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(case, request)

    async with Client("http://dw.test", token="t", transport=httpx.MockTransport(handler)) as client:
        method: Callable[..., Any] = getattr(client, case["call"])
        await method(**case["kwargs"])

    assert len(seen) == 1
    request, expected = seen[0], case["request"]
    assert request.method == expected["method"]
    assert request.url.path == expected["path"]
    plane = HEADERS[plane_of(request.url.path)]
    assert {name: request.headers.get(name) for name in PINNED_HEADERS} == {
        name: plane.get(name) for name in PINNED_HEADERS
    }
    assert dict(request.url.params) == expected.get("query", {})
    if "body" in expected:
        matches(expected["body"], json.loads(request.content))
    else:
        assert request.content == b""
