"""The lean HTTP sender (client/_http_pool.py) against real servers on 127.0.0.1.

Keep-alive reuse, stale connections (the server's idle close, before and after our bytes went
out), timeouts, refused connections, chunked / gzip / close-delimited / large bodies, the pool's
limits, cancellation, header and query encoding.
"""

from __future__ import annotations

import asyncio
import json
import select

import httpx
import pytest

from durable_workflow.client._http import (
    ConnectError,
    LocalProtocolError,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    UnsupportedProtocol,
)
from durable_workflow.client._http_pool import LeanSender
from tests.helpers.server_process import free_port

from .lean_servers import RawServer, uvicorn_server

JSON = {"Content-Type": "application/json"}


async def _until(condition: object, what: str) -> None:
    """Let the loop run until ``condition()`` holds (event-driven state, bounded)."""
    for _ in range(100_000):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


async def test_keep_alive_connection_is_reused() -> None:
    with uvicorn_server() as (base, seen):
        sender = LeanSender(base, timeout=10)
        for _ in range(5):
            answer = await sender.send("POST", "/api/echo", None, JSON, b'{"n":1}', None)
            assert answer.status == 200
            assert json.loads(answer.body) == {"size": 7, "body": '{"n":1}'}
        await sender.aclose()
    assert len(set(seen.ports)) == 1


async def test_chunked_gzip_and_large_bodies() -> None:
    with uvicorn_server() as (base, seen):
        sender = LeanSender(base, timeout=10)
        chunked = await sender.send("GET", "/api/chunked", None, {}, None, None)
        assert "chunked" in (chunked.header("Transfer-Encoding") or "")
        assert json.loads(chunked.body) == {"parts": [1, 2, 3]}
        zipped = await sender.send("GET", "/api/gzip", None, {}, None, None)
        assert zipped.header("content-encoding") == "gzip"
        assert json.loads(zipped.body) == {"zipped": "z" * 5000}
        large = await sender.send("GET", "/api/large", None, {}, None, None)
        assert len(json.loads(large.body)["blob"]) == 3_000_000
        big = json.dumps({"x": "y" * 1_500_000}).encode()
        echoed = await sender.send("POST", "/api/echo", None, JSON, big, None)
        assert json.loads(echoed.body)["size"] == len(big)
        await sender.aclose()
    assert "gzip" in seen.headers[1]["accept-encoding"]
    assert len(set(seen.ports)) == 1


async def test_query_encoding_matches_httpx_and_base_path_is_kept() -> None:
    query = {"a": "x y", "b": "a/b:c@d", "c": "ü+&=?#", "d": "true", "e": "~-._*!()'"}
    with uvicorn_server() as (base, seen):
        sender = LeanSender(base + "/prefix/", timeout=10)
        await sender.send("GET", "/api/ok", query, {}, None, None)
        await sender.aclose()
    assert seen.paths == ["/prefix/api/ok"]
    assert seen.queries[0] == httpx.URL("http://h/", params=query).query


async def test_a_line_break_in_a_header_is_refused_before_sending() -> None:
    sender = LeanSender("http://127.0.0.1:9", timeout=1)
    with pytest.raises(LocalProtocolError):
        await sender.send("GET", "/api/ok", None, {"X-Namespace": "a\r\nX-Evil: 1"}, None, None)


async def test_not_an_http_origin() -> None:
    sender = LeanSender("localhost:8080", timeout=1)
    with pytest.raises(UnsupportedProtocol):
        await sender.send("GET", "/api/ok", None, {}, None, None)


async def test_connection_refused_is_a_connect_error() -> None:
    sender = LeanSender(f"http://127.0.0.1:{free_port()}", timeout=5)
    with pytest.raises(ConnectError):
        await sender.send("GET", "/api/ok", None, {}, None, None)
    assert sender._open == 0


async def test_read_timeout_drops_the_connection() -> None:
    with uvicorn_server() as (base, seen):
        sender = LeanSender(base, timeout=10)
        with pytest.raises(ReadTimeout) as info:
            await sender.send("POST", "/api/hold", None, JSON, b"{}", 0.2)
        assert isinstance(info.value, TimeoutError)
        assert sender._open == 0
        seen.release.set()
        assert (await sender.send("GET", "/api/ok", None, {}, None, None)).status == 200
        await sender.aclose()


async def test_a_cancelled_request_frees_its_slot() -> None:
    with uvicorn_server() as (base, seen):
        sender = LeanSender(base, timeout=10, max_connections=1)
        task = asyncio.create_task(sender.send("POST", "/api/hold", None, JSON, b"{}", None))
        await asyncio.to_thread(seen.holding.acquire, True, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert sender._open == 0
        assert (await sender.send("GET", "/api/ok", None, {}, None, None)).status == 200
        await sender.aclose()


async def test_idle_connection_closed_by_the_server_is_replaced() -> None:
    # The server's keep-alive timer closes the connection after the first answer (uvicorn's
    # DW_KEEP_ALIVE_TIMEOUT, here on cue): the pool notices and the next call opens a fresh one.
    async with RawServer(["answer-close"], ["answer"]) as base:
        sender = LeanSender(base, timeout=10)
        await sender.send("POST", "/api/x", None, JSON, b"{}", None)
        await _until(lambda: not sender._idle, "the pool dropped the closed connection")
        assert sender._open == 0
        assert (await sender.send("POST", "/api/x", None, JSON, b"{}", None)).status == 200
        await sender.aclose()


async def test_uvicorn_idle_close_is_noticed() -> None:
    with uvicorn_server(keep_alive=0.2) as (base, seen):
        sender = LeanSender(base, timeout=10)
        await sender.send("GET", "/api/ok", None, {}, None, None)
        for _ in range(300):  # uvicorn closes it after 0.2 s; wait for the pool to see that
            if not sender._idle:
                break
            await asyncio.sleep(0.02)
        assert not sender._idle
        assert (await sender.send("POST", "/api/echo", None, JSON, b"{}", None)).status == 200
        await sender.aclose()
    assert len(set(seen.ports)) == 2


def _wait_until_readable(sender: LeanSender) -> None:
    """Block this thread (the loop does not run) until the idle connection's socket is readable.

    The server's close has then reached our socket, but the event loop has not seen it: the
    pool must find it out itself before it writes the next request there.
    """
    (connection,) = sender._idle
    assert connection.transport is not None
    sock = connection.transport.get_extra_info("socket")
    readable, _, _ = select.select([sock.fileno()], [], [], 10)
    assert readable, "the server never closed the idle connection"
    assert not connection.closed  # unseen by the loop so far


async def test_a_post_is_not_written_on_an_idle_connection_the_server_closed_unseen() -> None:
    # uvicorn closes keep-alive connections idle for 0.2 s (DW_KEEP_ALIVE_TIMEOUT, shortened).
    with uvicorn_server(keep_alive=0.2) as (base, seen):
        sender = LeanSender(base, timeout=10)
        await sender.send("POST", "/api/echo", None, JSON, b'{"n":1}', None)
        _wait_until_readable(sender)
        answer = await sender.send("POST", "/api/echo", None, JSON, b'{"n":2}', None)
        assert answer.status == 200 and json.loads(answer.body)["body"] == '{"n":2}'
        await sender.aclose()
    assert seen.bodies == [b'{"n":1}', b'{"n":2}']  # each processed once
    assert len(set(seen.ports)) == 2  # the second on a fresh connection


async def test_an_idle_connection_the_server_closed_on_cue_is_not_reused() -> None:
    server = RawServer(["answer-close"], ["answer"])
    async with server as base:
        sender = LeanSender(base, timeout=10)
        await sender.send("POST", "/api/x", None, JSON, b"{}", None)
        _wait_until_readable(sender)
        assert (await sender.send("POST", "/api/signal", None, JSON, b"{}", None)).status == 200
        assert server.requests == [(0, b"POST /api/x HTTP/1.1"), (1, b"POST /api/signal HTTP/1.1")]
        assert sender._open == 1
        await sender.aclose()


async def test_stale_connection_safe_request_is_resent_on_a_fresh_one() -> None:
    # The close races our request: the server read the GET, then closed without a byte.
    async with RawServer(["answer", "close"], ["answer"]) as base:
        sender = LeanSender(base, timeout=10)
        await sender.send("GET", "/api/x", None, {}, None, None)
        answer = await sender.send("GET", "/api/y", None, {}, None, None)
        assert answer.status == 200
        await sender.aclose()


async def test_stale_connection_post_is_not_resent() -> None:
    # A POST whose bytes reached a server that then closed may have been processed: the sender
    # does not send it again on its own (the caller's retry policy decides).
    server = RawServer(["answer", "close"], ["answer"])
    async with server as base:
        sender = LeanSender(base, timeout=10)
        await sender.send("POST", "/api/x", None, JSON, b"{}", None)
        with pytest.raises(RemoteProtocolError) as info:
            await sender.send("POST", "/api/signal", None, JSON, b"{}", None)
        assert info.value.sent and not info.value.answered
        await server.closed.wait()
        assert [line for _, line in server.requests].count(b"POST /api/signal HTTP/1.1") == 1
        assert server.connections == 1
        await sender.aclose()


async def test_a_fresh_connection_closed_without_answer_is_not_retried() -> None:
    server = RawServer(["close"])
    async with server as base:
        sender = LeanSender(base, timeout=10)
        with pytest.raises(RemoteProtocolError):
            await sender.send("GET", "/api/x", None, {}, None, None)
        assert server.connections == 1


async def test_body_delimited_by_the_close() -> None:
    async with RawServer(["answer-no-length"]) as base:
        sender = LeanSender(base, timeout=10)
        answer = await sender.send("GET", "/api/x", None, {}, None, None)
        assert json.loads(answer.body) == {"until": "close"}
        assert sender._open == 0


async def test_concurrent_requests_share_the_pool() -> None:
    with uvicorn_server() as (base, seen):
        sender = LeanSender(base, timeout=10)

        async def one(i: int) -> int:
            answer = await sender.send("POST", "/api/echo", None, JSON, json.dumps({"i": i}).encode(), None)
            return int(json.loads(json.loads(answer.body)["body"])["i"])

        for _ in range(3):
            assert sorted(await asyncio.gather(*(one(i) for i in range(16)))) == list(range(16))
        assert sender._open <= 16
        await sender.aclose()
    assert len(set(seen.ports)) <= 16


async def test_long_polls_do_not_starve_short_calls() -> None:
    with uvicorn_server() as (base, seen):
        sender = LeanSender(base, timeout=10, max_connections=3)
        polls = [
            asyncio.create_task(sender.send("POST", "/api/hold", None, JSON, b"{}", None)) for _ in range(2)
        ]
        for _ in polls:
            await asyncio.to_thread(seen.holding.acquire, True, 10)
        for _ in range(5):
            assert (await sender.send("POST", "/api/echo", None, JSON, b"{}", None)).status == 200
        seen.release.set()
        assert [p.status for p in await asyncio.gather(*polls)] == [200, 200]
        await sender.aclose()


async def test_a_full_pool_queues_requests_and_times_them_out() -> None:
    with uvicorn_server() as (base, seen):
        sender = LeanSender(base, timeout=10, max_connections=1)
        held = asyncio.create_task(sender.send("POST", "/api/hold", None, JSON, b"{}", None))
        await asyncio.to_thread(seen.holding.acquire, True, 10)
        with pytest.raises(PoolTimeout):
            await sender.send("GET", "/api/ok", None, {}, None, 0.1)
        queued = asyncio.create_task(sender.send("GET", "/api/ok", None, {}, None, None))
        await _until(lambda: sender._waiters, "the request waits for the pool")
        seen.release.set()
        assert (await held).status == 200
        assert (await queued).status == 200
        assert sender._open == 1
        await sender.aclose()
    assert len(set(seen.ports)) == 1


async def test_closed_sender_refuses_requests() -> None:
    sender = LeanSender("http://127.0.0.1:9", timeout=1)
    await sender.aclose()
    await sender.aclose()
    with pytest.raises(RuntimeError):
        await sender.send("GET", "/api/ok", None, {}, None, None)
