"""Fixtures of the UI tests: the real app on a real SQLite file, an HTTP "browser" with its
cookies (``browser``: signed out; ``signed_in``: signed in as admin), and the SDK client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import Client
from tests.helpers.e2e_env import e2e_settings, running_app, sdk_client
from tests.helpers.ui import sign_in


@pytest.fixture
def ui_settings_overrides() -> dict[str, Any]:
    """Settings a module changes for its app (credentials, namespace tokens)."""
    return {}


@pytest.fixture
async def app(tmp_path: Path, ui_settings_overrides: dict[str, Any]) -> AsyncIterator[Any]:
    settings = e2e_settings(f"sqlite:///{tmp_path / 'ui.sqlite3'}", **ui_settings_overrides)
    async with running_app(settings) as started:
        yield started


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http


@pytest.fixture
async def signed_in(browser: httpx.AsyncClient) -> httpx.AsyncClient:
    await sign_in(browser)
    return browser


@pytest.fixture
async def sdk(app: Any) -> AsyncIterator[Client]:
    async with sdk_client(app) as client:
        yield client
