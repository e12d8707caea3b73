"""The database matrix shared by the server and end-to-end suites.

SQLite always; PostgreSQL too when ``DW_TEST_POSTGRES_URL`` is set, each test in a freshly
created database that is dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import pytest

POSTGRES_ENV = "DW_TEST_POSTGRES_URL"
DATABASES = ["sqlite"] + (["postgres"] if os.environ.get(POSTGRES_ENV) else [])


def _run_sync(coro_factory: Callable[[], Awaitable[None]]) -> None:
    """Run a coroutine to completion on a private loop in a thread (safe inside a running loop)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro_factory())  # type: ignore[arg-type]
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _admin_dsn(url: str) -> str:
    parts = urlsplit(url)
    scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def fresh_postgres_url(request: pytest.FixtureRequest) -> str:
    """Create an empty PostgreSQL database for one test and drop it when the test ends."""
    import asyncpg

    base = os.environ.get(POSTGRES_ENV)
    if not base:  # a PostgreSQL-only test named directly (the suite leaves those out without it)
        pytest.skip(f"needs PostgreSQL: set {POSTGRES_ENV}")
    name = f"dw_test_{uuid.uuid4().hex[:16]}"

    async def create() -> None:
        conn = await asyncpg.connect(_admin_dsn(base))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(_admin_dsn(base))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    _run_sync(create)
    request.addfinalizer(lambda: _run_sync(drop))
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
