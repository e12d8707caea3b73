"""Fixtures for HTTP-layer tests: an app over the recording fake engine and an httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from durable_workflow_server import Settings, create_app
from tests.helpers.http_helpers import TOKEN, FakeEngine, check_cluster_info_compatible
from tests.helpers.live_app import live  # noqa: F401  (a fixture: a server with leased tasks)

AppFactory = Callable[..., Any]


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
async def make_client(fake_engine: FakeEngine) -> AsyncIterator[AppFactory]:
    """``await make_client(**settings_overrides)`` → an httpx client bound to a fresh app."""
    managers: list[tuple[LifespanManager, httpx.AsyncClient]] = []

    async def factory(settings_cls: type[Settings] = Settings, **overrides: Any) -> httpx.AsyncClient:
        values: dict[str, Any] = {"auth_token": TOKEN, "database_url": "sqlite:///unused.sqlite3"}
        values.update(overrides)
        app = create_app(settings_cls(**values), engine=fake_engine)  # type: ignore[arg-type]
        manager = LifespanManager(app)
        await manager.__aenter__()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        )
        managers.append((manager, client))
        return client

    yield factory
    for manager, client in reversed(managers):
        await client.aclose()
        await manager.__aexit__(None, None, None)


@pytest.fixture
async def client(make_client: AppFactory) -> httpx.AsyncClient:
    return await make_client()  # type: ignore[no-any-return]


@pytest.fixture
def assert_cluster_info_compatible() -> Callable[[dict[str, Any]], None]:
    return check_cluster_info_compatible
