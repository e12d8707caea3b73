"""Helpers shared by the end-to-end tests and their fixtures (``tests.helpers.e2e_env``).

They live in a module rather than in ``conftest.py`` so that tests can import them by name;
fixtures that use them are in ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

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
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[Any]:
    """Yield a started app (lifespan entered: migrations applied, timer loop running)."""
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        yield app


def sdk_client(app: Any, **kwargs: Any) -> Client:
    """Our SDK's Client wired to the in-process app (no sockets)."""
    return Client("http://testserver", token=TOKEN, transport=httpx.ASGITransport(app=app), **kwargs)
