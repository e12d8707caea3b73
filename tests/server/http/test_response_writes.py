"""A response's head and body leave in one transport write (``connections.HeadWithBody``).

uvicorn's httptools protocol is driven directly over a transport that records its writes (the
unit seam): the bytes are uvicorn's own, only how many writes carry them is under test.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from durable_workflow_server.connections import ConnectionGuard, ConnectionLimits, protocol_class

LIMITS = ConnectionLimits(header_timeout=5.0, body_timeout=5.0, max_pending=10, max_header_bytes=8192)


class RecordingTransport(asyncio.Transport):
    """Keeps every write; a socket's addresses for uvicorn's scope."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def chunks_app(scope: Any, receive: Any, send: Any) -> None:
    """Answers ``/stream`` in two body chunks, anything else in one (after reading the body)."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    stream = scope["path"] == "/stream"
    headers = [(b"content-type", b"text/plain")] + ([] if stream else [(b"content-length", b"5")])
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if stream:
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        await send({"type": "http.response.body", "body": b"two"})
    else:
        await send({"type": "http.response.body", "body": b"hello"})


async def exchange(
    request: bytes, *, body: bytes | None = None, cycles: list[Any] | None = None, again: int = 0
) -> list[bytes]:
    """The writes answering ``request`` (then ``body``, sent once something was written).

    ``again``: the request is sent that many more times on the connection, each once the one
    before was answered; ``cycles`` receives a weak reference to each request's cycle.
    """
    config = uvicorn.Config(chunks_app, log_level="warning", lifespan="off", ws="none")
    config.load()
    protocol: Any = protocol_class(ConnectionGuard(LIMITS), "httptools")(
        config=config, server_state=ServerState(), app_state={}
    )
    transport = RecordingTransport()
    protocol.connection_made(transport)
    for _ in range(again + 1):
        protocol.data_received(request)
        for _ in range(100):
            await asyncio.sleep(0)
            if body is not None and transport.writes:
                protocol.data_received(body)
                body = None
            if protocol.cycle.response_complete:
                break
        assert protocol.cycle.response_complete
        if cycles is not None:
            cycles.append(weakref.ref(protocol.cycle))
        for _ in range(3):
            await asyncio.sleep(0)  # the request task's done callbacks
    if cycles is not None:
        assert cycles[-1]() is not None  # the connection still holds its last cycle
    protocol.connection_lost(None)
    return transport.writes


async def test_head_and_body_are_one_write() -> None:
    writes = await exchange(b"GET /answer HTTP/1.1\r\nHost: x\r\n\r\n")
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[0].endswith(b"\r\n\r\nhello")


async def test_a_head_request_still_gets_its_head() -> None:
    writes = await exchange(b"HEAD /answer HTTP/1.1\r\nHost: x\r\n\r\n")
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(b"\r\n\r\n")


async def test_later_chunks_are_not_held() -> None:
    writes = await exchange(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    assert len(writes) == 2
    assert writes[0].endswith(b"\r\n\r\n3\r\none\r\n")
    assert writes[1] == b"3\r\ntwo\r\n0\r\n\r\n"


async def test_100_continue_is_written_before_the_body_arrives() -> None:
    head = b"POST /answer HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    writes = await exchange(head, body=b"{}")
    assert writes[0] == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert len(writes) == 2 and writes[1].endswith(b"\r\n\r\nhello")


async def test_an_answered_cycle_goes_without_a_garbage_collection() -> None:
    cycles: list[Any] = []
    gc.disable()
    try:
        await exchange(b"GET /answer HTTP/1.1\r\nHost: x\r\n\r\n", cycles=cycles, again=1)
        assert cycles[0]() is None  # the next request replaced it: no reference cycle kept it
    finally:
        gc.enable()
