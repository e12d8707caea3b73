"""An API answer is written straight through the cycle's transport (``HeadWithBody.answer``),
with the bytes, the connection's fate and the cycle's state that uvicorn's own two sends give.

uvicorn's httptools protocol is driven directly over a recording transport (as in
``test_response_writes.py``); each case is answered once through ``routing.send_prepared`` and
once through plain ASGI sends, and the two must write the same.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from durable_workflow_server import connections
from durable_workflow_server.connections import ConnectionGuard, protocol_class
from durable_workflow_server.http.routing import send_prepared
from tests.server.http.test_response_writes import LIMITS, RecordingTransport

JSON = (b"content-type", b"application/json")
DEFAULTS = [(b"date", b"Fri, 04 Dec 2026 18:00:00 GMT"), (b"server", b"uvicorn")]

Prepared = tuple[int, list[tuple[bytes, bytes]], bytes]


def app_for(prepared: Prepared, direct: bool) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        if direct:
            await send_prepared(send, prepared)
        else:
            status, headers, body = prepared
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    return app


async def answer(app: Any, request: bytes, access_log: bool = False) -> tuple[list[bytes], bool, Any]:
    """The writes answering ``request``, whether the connection was closed, and the cycle."""
    config = uvicorn.Config(app, log_level="critical", lifespan="off", ws="none", access_log=access_log)
    config.load()
    state = ServerState()
    state.default_headers = list(DEFAULTS)
    protocol: Any = protocol_class(ConnectionGuard(LIMITS), "httptools")(
        config=config, server_state=state, app_state={}
    )
    transport = RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(request)
    for _ in range(100):
        await asyncio.sleep(0)
        if protocol.cycle.response_complete or transport.closed:
            break
    for _ in range(3):
        await asyncio.sleep(0)
    cycle, closed = protocol.cycle, transport.closed
    protocol.connection_lost(None)
    return transport.writes, closed, cycle


def body_of(text: bytes, *extra: tuple[bytes, bytes]) -> Prepared:
    return 200, [*extra, (b"content-length", str(len(text)).encode()), JSON], text


GET = b"GET /api/x HTTP/1.1\r\nHost: x\r\n\r\n"
POST = b"POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
CLOSE = b"GET /api/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
HTTP10 = b"GET /api/x HTTP/1.0\r\nHost: x\r\n\r\n"
HEAD = b"HEAD /api/x HTTP/1.1\r\nHost: x\r\n\r\n"

# (prepared answer, request, whether it is written directly)
CASES: dict[str, tuple[Prepared, bytes, bool]] = {
    "json": (body_of(b'{"a":1}'), GET, True),
    "after a body": (body_of(b'{"ok":true}'), POST, True),
    "a plane header first": (body_of(b"{}", (b"x-durable-workflow-protocol-version", b"1.1")), GET, True),
    "an error status": ((404, [(b"content-length", b"2"), JSON], b"{}"), GET, True),
    "a status no phrase names": ((599, [(b"content-length", b"2"), JSON], b"{}"), GET, True),
    "the client closes": (body_of(b"{}"), CLOSE, True),
    "HTTP/1.0": (body_of(b"{}"), HTTP10, True),
    "an empty body": ((200, [(b"content-length", b"0"), JSON], b""), GET, True),
    "two content-lengths": (
        (200, [(b"content-length", b"2"), (b"content-length", b"9"), JSON], b"{}"),
        GET,
        True,
    ),
    "HEAD": (body_of(b"{}"), HEAD, False),
    "a connection header": (body_of(b"{}", (b"connection", b"close")), GET, False),
    "no content-length (chunked)": ((200, [JSON], b"{}"), GET, False),
    "204": ((204, [JSON], b""), GET, False),
    "a body longer than declared": ((200, [(b"content-length", b"1"), JSON], b"{}"), GET, False),
    "a body shorter than declared": ((200, [(b"content-length", b"5"), JSON], b"{}"), GET, False),
    "a header value with a newline": (body_of(b"{}", (b"x-odd", b"a\nb")), GET, False),
    "a header name with a space": (body_of(b"{}", (b"x odd", b"a")), GET, False),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_direct_answer_writes_what_the_two_sends_write(case: str, monkeypatch: Any) -> None:
    prepared, request, expect_direct = CASES[case]
    taken: list[bool] = []
    original = connections.HeadWithBody.answer

    def recording(self: Any, *args: Any) -> bool:
        result = original(self, *args)
        taken.append(result)
        return result

    monkeypatch.setattr(connections.HeadWithBody, "answer", recording)
    direct = await answer(app_for(prepared, direct=True), request)
    assert taken == [expect_direct]
    sends = await answer(app_for(prepared, direct=False), request)
    assert direct[0] == sends[0]  # the same bytes, in as many writes
    assert direct[1] == sends[1]  # the connection closed (or kept) alike
    for name in ("response_started", "response_complete", "keep_alive", "expected_content_length"):
        assert getattr(direct[2], name) == getattr(sends[2], name), name
    if expect_direct:
        assert len(direct[0]) == 1


async def test_a_wrapped_send_is_left_to_the_sends() -> None:
    prepared = body_of(b'{"a":1}')
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()

        async def wrapped(message: Any) -> None:
            seen.append(message["type"])
            await send(message)

        await send_prepared(wrapped, prepared)

    writes, closed, _ = await answer(app, GET)
    assert seen == ["http.response.start", "http.response.body"]
    assert len(writes) == 1 and writes[0].endswith(b'\r\n\r\n{"a":1}') and not closed


async def test_an_answer_after_the_client_left_writes_nothing() -> None:
    prepared = body_of(b"{}")
    cycles: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        cycles.append(send.__self__)
        send.__self__.disconnected = True  # what connection_lost does to the cycle
        await send_prepared(send, prepared)

    writes, _, _ = await answer(app, GET)
    assert writes == [] and not cycles[0].response_started


async def test_with_an_access_log_the_sends_write_the_answer(monkeypatch: Any) -> None:
    taken: list[bool] = []
    original = connections.HeadWithBody.answer

    def recording(self: Any, *args: Any) -> bool:
        taken.append(original(self, *args))
        return taken[-1]

    monkeypatch.setattr(connections.HeadWithBody, "answer", recording)
    prepared = body_of(b'{"a":1}')
    direct = await answer(app_for(prepared, direct=True), GET, access_log=True)
    sends = await answer(app_for(prepared, direct=False), GET, access_log=True)
    assert taken == [False]  # the log line is the sends' to write
    assert direct[0] == sends[0] and len(direct[0]) == 1


def test_a_cycle_without_the_state_it_reads_is_left_to_the_sends() -> None:
    # A uvicorn whose cycle keeps its state under other names: nothing is written directly, and
    # the caller sends the answer the usual way (the sends of that uvicorn know its names).
    class Transport:
        writes: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.writes.append(data)

    class ForeignCycle:  # what HeadWithBody itself needs of a cycle, and nothing the answer reads
        scope = {"method": "GET"}

        def on_response(self) -> None:
            raise AssertionError("nothing was answered")

    transport = Transport()
    writer = connections.HeadWithBody(transport, ForeignCycle())  # type: ignore[arg-type]
    assert writer.answer(200, [(b"content-length", b"2")], b"{}") is False
    assert transport.writes == []
