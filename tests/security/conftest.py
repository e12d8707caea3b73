"""Security-tier fixtures: a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.dbmatrix import DATABASES, fresh_postgres_url


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'security.sqlite3'}"
    return fresh_postgres_url(request)


@pytest.fixture(scope="module", params=DATABASES)
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database for a whole module (a module whose tests share one server)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('security') / 'security.sqlite3'}"
    return fresh_postgres_url(request)
