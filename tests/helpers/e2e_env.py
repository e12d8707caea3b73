"""Helpers shared by the end-to-end tests and their fixtures (``tests.helpers.e2e_env``).

They live in a module rather than in ``conftest.py`` so that tests can import them by name;
fixtures that use them are in ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from durable_workflow import Client
from durable_workflow_server import Settings, create_app

TOKEN = "e2e-token"


def e2e_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings with test-sized timings: polls and loops wait milliseconds, not seconds."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "auth_token": TOKEN,
        "long_poll_timeout": 0.5,
        "timer_loop_interval": 0.02,
    }
    if "clock" in overrides:
        # A fake clock that a test moves by minutes makes every live worker look silent until
        # its next (real-time) heartbeat, and liveness would release its leases: with a fake
        # clock, liveness is enforced only where the test asks for it.
        values["worker_liveness_timeout_seconds"] = None
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[Any]:
    """Yield a started app (lifespan entered: migrations applied, timer loop running)."""
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        yield app


def sdk_client(app: Any, **kwargs: Any) -> Client:
    """Our SDK's Client wired to the in-process app (``asgi_app=``: no sockets, no httpx)."""
    return Client("http://testserver", token=TOKEN, asgi_app=app, **kwargs)


async def wait_for_event(app: Any, workflow_id: str, run_id: str, event_type: str) -> dict[str, Any]:
    """Follow the run's history with the server's long poll until ``event_type`` is recorded."""
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Control-Plane-Version": "2"}
    path = f"/api/workflows/{workflow_id}/runs/{run_id}/history"
    token: str | None = None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:

        async def follow() -> dict[str, Any]:
            nonlocal token
            while True:
                params = {"wait_new_event": "1", **({"next_page_token": token} if token else {})}
                page = (await http.get(path, params=params, headers=headers)).json()
                for event in page["events"]:
                    if event["event_type"] == event_type:
                        return event  # type: ignore[no-any-return]
                token = page["next_page_token"] or token

        return await asyncio.wait_for(follow(), timeout=20)
