"""A parked long poll is abandoned as soon as the worker hangs up (the ASGI disconnect)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgi_lifespan import LifespanManager
from http_helpers import TOKEN, FakeEngine

from durable_workflow_server import Settings, create_app


class ParkedPollEngine(FakeEngine):
    """A fake whose polls park until cancelled, so the test sees whether they get cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.cancelled = asyncio.Event()

    async def poll_workflow_task(self, namespace: str, **kwargs: Any) -> dict[str, Any] | None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return None


async def test_hang_up_cancels_the_engine_poll() -> None:
    engine = ParkedPollEngine()
    app = create_app(Settings(auth_token=TOKEN, database_url="sqlite:///unused.sqlite3"), engine=engine)
    body = json.dumps({"worker_id": "w1", "task_queue": "q"}).encode()
    hung_up = asyncio.Event()
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not messages:
            messages.append({"type": "http.request", "body": body, "more_body": False})
            return messages[-1]
        await hung_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/worker/workflow-tasks/poll",
        "raw_path": b"/api/worker/workflow-tasks/poll",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {TOKEN}".encode()),
            (b"x-durable-workflow-protocol-version", b"1.1"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    async with LifespanManager(app) as manager:
        handler = asyncio.create_task(manager.app(scope, receive, send))
        await asyncio.sleep(0.05)
        assert not handler.done()  # parked
        hung_up.set()
        await asyncio.wait_for(handler, timeout=5)
    assert engine.cancelled.is_set()
