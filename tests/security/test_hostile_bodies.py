"""Bodies over ``DW_MAX_PAYLOAD_BYTES`` and JSON nested 100k levels, on every route that reads a body.

Each is refused before anything is written (413 ``payload_too_large``; a 4xx envelope for the
nesting, never a 500 or a RecursionError), with an admin token so that no guard would stop the
request before the body is read; afterwards the server still serves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from durable_workflow_server import Settings, create_app
from tests.helpers.live_app import snapshot
from tests.security.test_route_roles import SERVED, TOKENS, Route

LIMIT = 4096
WITH_BODY = [route for route in SERVED if route.method != "GET"]


@pytest.fixture
async def server(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=db_url,
        admin_token=TOKENS["admin"],
        max_payload_bytes=LIMIT,
        long_poll_timeout=0.05,
        timer_loop_interval=3600.0,
    )
    async with LifespanManager(create_app(settings), startup_timeout=30, shutdown_timeout=30) as manager:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
        ) as http:
            yield http


def _url(route: Route) -> str:
    params = {"workflow_id": "wf", "run_id": "r", "task_id": "t", "worker_id": "w", "namespace": "default"}
    params |= {
        "task_queue": "q",
        "name": "n",
        "query_task_id": "qt",
        "schedule_id": "s",
        "adapter": "webhook",
    }
    return "/api" + route.path.format(**params)


def _headers(route: Route) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {TOKENS['admin']}", "Content-Type": "application/json"}
    if route.plane == "worker":
        headers["X-Durable-Workflow-Protocol-Version"] = "1.1"
    elif route.plane == "control":
        headers["X-Durable-Workflow-Control-Plane-Version"] = "2"
    return headers


async def _refused_without_writes(
    http: httpx.AsyncClient, db_url: str, body: bytes, statuses: set[int], *, chunked: bool = False
) -> None:
    before = await snapshot(db_url)
    for route in WITH_BODY:
        content: bytes | AsyncIterator[bytes] = body
        if chunked:  # no Content-Length: the limit must hold while the body streams in

            async def chunks() -> AsyncIterator[bytes]:
                for start in range(0, len(body), 1024):
                    yield body[start : start + 1024]

            content = chunks()
        response = await http.request(route.method, _url(route), content=content, headers=_headers(route))
        where = f"{route.method} {route.path}: {response.status_code} {response.text[:200]}"
        assert response.status_code in statuses, where
        answer = response.json()
        assert isinstance(answer["reason"], str) and isinstance(answer["message"], str), where
    assert await snapshot(db_url) == before
    health = await http.get("/api/health")
    assert health.status_code == 200


async def test_a_body_over_the_limit_is_413_everywhere(server: httpx.AsyncClient, db_url: str) -> None:
    body = b'{"input": ["' + b"x" * (LIMIT + 1) + b'"]}'
    await _refused_without_writes(server, db_url, body, {413})
    await _refused_without_writes(server, db_url, body, {413}, chunked=True)


async def test_json_nested_100k_levels_is_a_4xx_everywhere(server: httpx.AsyncClient, db_url: str) -> None:
    # Under the byte limit so the nesting, not the size, is what is refused; then the same nesting
    # at 100k levels (over any sane limit: 413 or 400, either is a refusal, neither a crash).
    shallow_enough_to_fit = b"[" * 2000 + b"]" * 2000
    await _refused_without_writes(server, db_url, shallow_enough_to_fit, {400})
    deep = b"[" * 100_000 + b"]" * 100_000
    await _refused_without_writes(server, db_url, deep, {400, 413})
    in_a_field = b'{"input": ' + b"[" * 2000 + b"]" * 2000 + b"}"
    await _refused_without_writes(server, db_url, in_a_field, {400})


async def test_100k_levels_under_a_large_limit_is_400(db_url: str) -> None:
    # With a limit large enough to take the whole 200 kB document, the parser itself is reached.
    settings = Settings(database_url=db_url, admin_token=TOKENS["admin"], max_payload_bytes=1_000_000)
    async with LifespanManager(create_app(settings), startup_timeout=30, shutdown_timeout=30) as manager:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
        ) as http:
            deep = b"[" * 100_000 + b"]" * 100_000
            await _refused_without_writes(http, db_url, deep, {400})
            deep_object = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
            await _refused_without_writes(http, db_url, deep_object, {400})
