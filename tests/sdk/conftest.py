"""Helpers for SDK tests: a recording fake HTTP server and clients that use it."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from durable_workflow.client import Client
from durable_workflow.retry_policy import TransportRetryPolicy

Responder = Callable[[httpx.Request], httpx.Response]


class FakeServer:
    """Records every request and answers from a queue of canned responses (or a handler).

    ``reply`` queues answers consumed in order; when the queue is empty ``default`` answers.
    A ``handler`` takes precedence over both.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.queue: deque[httpx.Response | Exception] = deque()
        self.handler: Responder | None = None
        self.default = httpx.Response(200, json={})

    def reply(self, status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> FakeServer:
        content = b"" if body is None else json.dumps(body).encode()
        hdrs = {"content-type": "application/json", **(headers or {})}
        self.queue.append(httpx.Response(status, content=content, headers=hdrs))
        return self

    def fail(self, exc: Exception) -> FakeServer:
        self.queue.append(exc)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.handler is not None:
            return self.handler(request)
        if self.queue:
            item = self.queue.popleft()
            if isinstance(item, Exception):
                raise item
            return item
        return self.default

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    @staticmethod
    def body_of(request: httpx.Request) -> Any:
        return json.loads(request.content) if request.content else None


class SleepRecorder:
    """Stands in for ``asyncio.sleep`` in retry policies: records delays, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def fake() -> FakeServer:
    return FakeServer()


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def make_client(fake: FakeServer, sleeps: SleepRecorder) -> AsyncIterator[Callable[..., Client]]:
    """Build clients on the ``fake`` transport with an instant retry policy; closed afterwards."""
    made: list[Client] = []

    def make(**kwargs: Any) -> Client:
        kwargs.setdefault("retry_policy", TransportRetryPolicy(sleep=sleeps, random=lambda: 0.5))
        kwargs.setdefault("transport", httpx.MockTransport(fake))
        client = Client(kwargs.pop("base_url", "http://dw.test"), **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def client(make_client: Callable[..., Client]) -> Client:
    return make_client(token="tok")
