"""End-to-end fixtures: the real server app (in process, through the client's ASGI sender,
``asgi_app=``) and the real SDK client and worker, on a real SQLite file (and PostgreSQL when
configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import Client
from tests.helpers.dbmatrix import DATABASES, fresh_postgres_url
from tests.helpers.e2e_env import e2e_settings, running_app, sdk_client


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    return fresh_postgres_url(request)


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Any]:
    async with running_app(e2e_settings(database_url)) as started:
        yield started


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Client]:
    async with sdk_client(app) as sdk:
        yield sdk
