"""``Client(asgi_app=app)``: requests handed to an ASGI app in this process, as a socket server would.

Raw ASGI apps (no server package) check what the app is handed (scope, body, the disconnect once
nobody listens), what the caller gets back (status, headers, chunked bodies), and that failures
and deadlines end as they do over a socket: a 500 for an app that fails before answering, a
protocol error for one that fails mid-answer, a ``ReadTimeout`` for a deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import pytest

from durable_workflow.client import Client
from durable_workflow.client._http import ReadTimeout, RemoteProtocolError
from durable_workflow.client._http_asgi import AsgiSender
from durable_workflow.errors import ServerError, TransportError
from durable_workflow.retry_policy import TransportRetryPolicy

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ONE_ATTEMPT = TransportRetryPolicy(max_attempts=1)


async def _json(send: Send, status: int, body: bytes, *headers: tuple[bytes, bytes]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Recorder:
    """Answers ``{"ok": true}`` and keeps each scope and body it was handed."""

    def __init__(self) -> None:
        self.scopes: list[Message] = []
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        message = await receive()
        self.bodies.append(message["body"])
        await _json(send, 200, b'{"ok":true}')


async def test_the_scope_is_what_a_socket_server_builds() -> None:
    app = Recorder()
    async with Client("http://embedded.test:8080", token="tok", namespace="orders", asgi_app=app) as client:
        assert await client._request(
            "POST", "/workflows/{id}/signal", path_params={"id": "a b/c"}, body={"x": 1}
        ) == {"ok": True}
        await client._request("GET", "/workflows", params={"status": "running", "page_size": 5, "none": None})
    post, get = app.scopes
    assert post["type"] == "http" and post["method"] == "POST" and post["http_version"] == "1.1"
    assert post["scheme"] == "http" and post["server"] == ("embedded.test", 8080)
    assert post["raw_path"] == b"/api/workflows/a%20b%2Fc/signal"
    assert post["path"] == "/api/workflows/a b/c/signal"
    headers = dict(post["headers"])
    assert headers[b"host"] == b"embedded.test:8080"
    assert headers[b"authorization"] == b"Bearer tok"
    assert headers[b"x-namespace"] == b"orders"
    assert headers[b"content-length"] == b"7"
    assert b"accept-encoding" not in headers  # nothing to gain from compressing in process
    assert app.bodies == [b'{"x":1}', b""]
    assert get["query_string"] == b"status=running&page_size=5"
    assert get["path"] == "/api/workflows"


async def test_a_chunked_answer_is_joined_and_repeated_headers_too() -> None:
    async def app(scope: Message, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"Content-Type", b"application/json"), (b"x-a", b"1"), (b"X-A", b"2")],
            }
        )
        for chunk in (b'{"par', b"", b'ts":', b"[1,2]}"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    sender = AsgiSender(app, "http://embedded.test", timeout=5.0)
    response = await sender.send("GET", "/x", None, {}, None, None)
    assert response.status == 201
    assert response.body == b'{"parts":[1,2]}'
    assert response.header("x-a") == "1, 2"
    assert response.header("content-type") == "application/json"


async def test_once_answered_the_app_hears_a_disconnect() -> None:
    heard: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def app(scope: Message, receive: Receive, send: Send) -> None:
        await receive()
        await _json(send, 200, b"{}")
        heard.set_result((await receive())["type"])

    sender = AsgiSender(app, "http://embedded.test", timeout=5.0)
    await sender.send("POST", "/x", None, {}, b"{}", None)
    assert await asyncio.wait_for(heard, 5) == "http.disconnect"


class Parked:
    """An app that parks until the client hangs up, as a long poll does; records how it ended."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        await receive()
        self.entered.set()
        try:
            message = await receive()
        except asyncio.CancelledError:
            self.ended.set_result("cancelled")
            raise
        # The app goes on after the hang-up (it hands a task back, say); it is not cancelled.
        await asyncio.sleep(0)
        self.ended.set_result(message["type"])


async def test_a_cancelled_caller_is_a_client_that_hung_up_and_the_app_is_not_cancelled() -> None:
    app = Parked()
    async with Client("http://embedded.test", asgi_app=app) as client:
        call = asyncio.create_task(client._request("POST", "/worker/poll", plane="worker", body={}))
        await app.entered.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert await asyncio.wait_for(app.ended, 5) == "http.disconnect"


async def test_a_deadline_is_a_read_timeout_and_the_app_hears_the_hang_up() -> None:
    app = Parked()
    sender = AsgiSender(app, "http://embedded.test", timeout=60.0)
    with pytest.raises(ReadTimeout):
        await sender.send("POST", "/worker/poll", None, {}, b"{}", 0.05)
    assert await asyncio.wait_for(app.ended, 5) == "http.disconnect"
    async with Client("http://embedded.test", asgi_app=Parked(), retry_policy=ONE_ATTEMPT) as client:
        with pytest.raises(TransportError, match="ReadTimeout"):
            await client._request("POST", "/worker/poll", plane="worker", body={}, timeout=0.05)


async def test_an_app_that_fails_before_answering_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Message, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    sender = AsgiSender(app, "http://embedded.test", timeout=5.0)
    response = await sender.send("GET", "/x", None, {}, None, None)
    assert (response.status, response.body) == (500, b"Internal Server Error")
    assert "boom" in caplog.text
    async with Client("http://embedded.test", asgi_app=app, retry_policy=ONE_ATTEMPT) as client:
        with pytest.raises(ServerError) as raised:
            await client._request("GET", "/x")
    assert raised.value.status_code == 500


async def test_an_app_that_fails_mid_answer_or_returns_without_one_is_a_protocol_error() -> None:
    async def fails_mid_answer(scope: Message, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        raise RuntimeError("broken")

    async def returns(scope: Message, receive: Receive, send: Send) -> None:
        return None

    for app in (fails_mid_answer, returns):
        sender = AsgiSender(app, "http://embedded.test", timeout=5.0)
        with pytest.raises(RemoteProtocolError):
            await sender.send("GET", "/x", None, {}, None, None)
    async with Client("http://embedded.test", asgi_app=returns, retry_policy=ONE_ATTEMPT) as client:
        with pytest.raises(TransportError, match="RemoteProtocolError"):
            await client._request("GET", "/x")


async def test_a_closed_client_refuses_and_a_transport_cannot_be_given_too() -> None:
    client = Client("http://embedded.test", asgi_app=Recorder())
    await client.aclose()
    with pytest.raises(RuntimeError):
        await client._request("GET", "/x")
    with pytest.raises(ValueError):
        Client(
            "http://embedded.test",
            asgi_app=Recorder(),
            transport=httpx.MockTransport(lambda r: httpx.Response(200)),
        )
    with pytest.raises(TransportError, match="http:// or https://"):
        await Client("embedded.test", asgi_app=Recorder())._request("GET", "/x")
