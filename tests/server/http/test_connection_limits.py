"""Request limits over a real socket: header/body read deadlines, keep-alive, the pending cap, head size.

The server runs in a thread with short configured limits; every wait on the raw socket is
bounded by the socket's timeout (10 s), far beyond the configured deadlines, so a server that
never closes fails the test instead of hanging it.
"""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from durable_workflow.protocol import versions
from durable_workflow_server import Settings
from tests.helpers.http_helpers import TOKEN, FakeEngine
from tests.helpers.limited_server import Served, limited_serving, read_until_closed

pytestmark = pytest.mark.smoke

IMPLEMENTATIONS = ["httptools", "h11"]
HEALTH = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def limits(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "auth_token": TOKEN,
        "database_url": "sqlite:///unused.sqlite3",
        "header_read_timeout": 0.3,
        "body_read_timeout": 0.3,
        "keep_alive_timeout": 0.3,
        "shutdown_timeout": 2.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def wait_for(condition, what: str, bound: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Poll a server-side condition (its counters), bounded."""
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.01)


@pytest.fixture(params=IMPLEMENTATIONS)
def implementation(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def health_ok(served: Served) -> bool:
    return httpx.get(f"{served.url}/api/health", timeout=10.0).status_code == 200


def test_a_request_head_that_never_finishes_is_closed(implementation: str) -> None:
    with limited_serving(limits(), engine=FakeEngine(), implementation=implementation) as served:
        with served.connect() as slow:
            slow.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            assert read_until_closed(slow) == b""  # closed, nothing answered
        assert served.guard.closed_for_time == 1
        assert health_ok(served)


def test_a_connection_that_sends_nothing_is_closed(implementation: str) -> None:
    with limited_serving(limits(), engine=FakeEngine(), implementation=implementation) as served:
        with served.connect() as silent:
            assert read_until_closed(silent) == b""
        assert served.guard.closed_for_time == 1


def test_a_head_trickled_past_the_deadline_is_closed(implementation: str) -> None:
    # Each byte resets nothing: the deadline runs from the connection's start.
    with limited_serving(
        limits(header_read_timeout=0.5), engine=FakeEngine(), implementation=implementation
    ) as s:
        with s.connect() as slow:
            slow.sendall(b"GET /api/health HTTP/1.1\r\n")
            closed = False
            for _ in range(200):  # bounded: 200 headers, one every 20 ms, ~4 s of trickling
                try:
                    slow.sendall(b"X-A: b\r\n")
                except OSError:
                    closed = True
                    break
                time.sleep(0.02)
            if not closed:
                assert read_until_closed(slow) == b""
        assert s.guard.closed_for_time == 1


def test_a_body_that_never_finishes_is_closed_and_nothing_is_written(implementation: str) -> None:
    engine = FakeEngine()
    with limited_serving(limits(), engine=engine, implementation=implementation) as served:
        with served.connect() as slow:
            head = (
                "POST /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {TOKEN}\r\n{versions.CONTROL_PLANE_HEADER}: 2\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            )
            slow.sendall(head.encode() + b'{"workflow_type": "x"')
            assert read_until_closed(slow) == b""
        assert served.guard.closed_for_time == 1
        assert engine.engine_calls == []


def test_an_idle_keep_alive_connection_is_closed(implementation: str) -> None:
    with limited_serving(limits(), engine=FakeEngine(), implementation=implementation) as served:
        with served.connect() as idle:
            idle.sendall(HEALTH)
            answer = read_until_closed(idle)  # the answer, then the close after keep-alive
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert served.guard.closed_for_time == 0  # closed by the keep-alive timeout, not ours


def test_a_later_head_on_a_kept_alive_connection_has_its_own_deadline(implementation: str) -> None:
    # The first head's deadline timer is still armed when the second head starts: it must not
    # close the connection early, and the second head's own deadline must still close it.
    settings = limits(header_read_timeout=0.5, keep_alive_timeout=30.0)
    with limited_serving(settings, engine=FakeEngine(), implementation=implementation) as served:
        with served.connect() as sock:
            sock.sendall(HEALTH)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            time.sleep(0.3)  # not synchronisation: the second head starts 0.3 s into the first's wait
            started = time.monotonic()
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            assert read_until_closed(sock) == b""
            assert time.monotonic() - started >= 0.4  # its own deadline (0.5 s), not the first head's (0.2 s)
        assert served.guard.closed_for_time == 1


def test_a_body_deadline_shorter_than_the_head_deadline_closes_in_time(implementation: str) -> None:
    settings = limits(header_read_timeout=30.0, body_read_timeout=0.3, keep_alive_timeout=30.0)
    with limited_serving(settings, engine=FakeEngine(), implementation=implementation) as served:
        with served.connect(timeout=10.0) as slow:
            head = b"POST /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"
            slow.sendall(head)
            started = time.monotonic()
            assert read_until_closed(slow) == b""
            assert time.monotonic() - started < 10.0  # the body's deadline, well before the head's
        assert served.guard.closed_for_time == 1


def test_a_slow_request_is_served_when_within_the_deadlines(implementation: str) -> None:
    settings = limits(header_read_timeout=5.0, body_read_timeout=5.0)
    with limited_serving(settings, engine=FakeEngine(), implementation=implementation) as served:
        with served.connect() as sock:
            for part in (b"GET /api/health HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"):
                sock.sendall(part)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_half_open_connections_do_not_stop_a_normal_client(implementation: str) -> None:
    # 200 slow-loris connections against a cap of 50 pending: the oldest are closed to admit
    # newer ones, and a normal client keeps getting answers throughout.
    settings = limits(header_read_timeout=60.0, max_pending_connections=50)
    with limited_serving(settings, engine=FakeEngine(), implementation=implementation) as served:
        half_open: list[socket.socket] = []
        try:
            for _ in range(200):
                sock = served.connect()
                sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                half_open.append(sock)
            wait_for(lambda: served.guard.evicted >= 150, "150 pending connections evicted")
            assert served.guard.pending <= 50
            with httpx.Client(base_url=served.url, timeout=10.0) as client:
                for _ in range(20):
                    assert client.get("/api/health").status_code == 200
            # the oldest were the ones closed
            assert read_until_closed(half_open[0]) == b""
        finally:
            for sock in half_open:
                sock.close()


def test_a_huge_request_head_is_431_and_closed(implementation: str) -> None:
    with limited_serving(
        limits(max_header_bytes=8192), engine=FakeEngine(), implementation=implementation
    ) as s:
        with s.connect() as sock:
            sock.sendall(
                b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
            )
            answer = read_until_closed(sock)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431 "), answer[:200]
        document = json.loads(body)
        assert document["reason"] == "request_headers_too_large" and document["limit"] == 8192
        assert document["message"]
        with s.connect() as sock:  # a head under the cap is served
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Ok: " + b"a" * 4000 + b"\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_a_body_over_the_payload_limit_is_413_with_the_envelope(implementation: str) -> None:
    engine = FakeEngine()
    with limited_serving(
        limits(max_payload_bytes=1000), engine=engine, implementation=implementation
    ) as served:
        headers = {
            "Authorization": f"Bearer {TOKEN}",
            versions.CONTROL_PLANE_HEADER: "2",
            "Content-Type": "application/json",
        }
        body = json.dumps({"workflow_type": "x" * 5000})
        response = httpx.post(f"{served.url}/api/workflows", content=body, headers=headers, timeout=10.0)
        assert response.status_code == 413
        assert response.json()["reason"] == "payload_too_large" and response.json()["limit"] == 1000
        assert response.json()["control_plane"]["operation"] == "start"
        assert engine.engine_calls == []
        assert health_ok(served)


def test_a_websocket_upgrade_is_served_as_plain_http(implementation: str) -> None:
    # No route speaks WebSocket; an upgraded connection would leave the limits behind.
    with limited_serving(limits(), engine=FakeEngine(), implementation=implementation) as served:
        with served.connect() as sock:
            sock.sendall(
                b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Connection: Upgrade\r\nUpgrade: websocket\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
