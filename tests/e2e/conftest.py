"""End-to-end fixtures: the real server app (in process, through httpx.ASGITransport) and the
real SDK client and worker, on a real SQLite file (and PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from e2e_env import TOKEN

from dbmatrix import DATABASES, fresh_postgres_url
from durable_workflow import Client
from durable_workflow_server import Settings, create_app


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


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    return fresh_postgres_url(request)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[Any]:
    """Yield a started app (lifespan entered: migrations applied, timer loop running)."""
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        yield app


def sdk_client(app: Any, **kwargs: Any) -> Client:
    """Our SDK's Client wired to the in-process app (no sockets)."""
    return Client(
        "http://testserver",
        token=TOKEN,
        transport=httpx.ASGITransport(app=app),
        **kwargs,
    )


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Any]:
    async with running_app(e2e_settings(database_url)) as started:
        yield started


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Client]:
    async with sdk_client(app) as sdk:
        yield sdk


ClientFactory = Callable[..., Client]
