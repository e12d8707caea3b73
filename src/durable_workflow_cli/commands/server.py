"""``dw server:start-dev`` and ``dw server:start``: run the embedded server in this process.

The server package is imported only inside the commands, so ``dw`` works without the
``[server]`` extra and these two commands explain how to get it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from .. import output

SERVER_INSTALL_HINT = "the embedded server needs the server extra: pip install 'durable-workflow[server]'"
DEV_TOKEN = "dev-token"
_SERVER_MODULES = {
    "durable_workflow_server",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "pydantic",
    "ulid",
}


def default_dev_database(env: dict[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME`` (or ``~/.local/share``) ``/durable-workflow/dev.sqlite3``."""
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "share")
    return Path(base) / "durable-workflow" / "dev.sqlite3"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.expanduser().resolve()}"


def _load_server() -> Any:
    """Import the server package, or exit with the install hint when the extra is missing."""
    try:
        import durable_workflow_server
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in _SERVER_MODULES:
            raise
        output.error(SERVER_INSTALL_HINT)
        raise SystemExit(1) from None
    return durable_workflow_server


def dev_settings_overrides(
    *, db_file: Path | None, in_memory: bool, env: dict[str, str]
) -> tuple[dict[str, Any], str, bool]:
    """Settings overrides for the dev server, the database description and whether the token was defaulted."""
    if in_memory:
        database_url, where = "sqlite:///:memory:", "in memory (nothing is kept)"
    else:
        path = (db_file or default_dev_database(env)).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        database_url, where = sqlite_url(path), str(path)
    token = env.get("DW_AUTH_TOKEN") or None
    overrides: dict[str, Any] = {
        "database_url": database_url,
        "auth_driver": "token",
        "auth_token": token or DEV_TOKEN,
    }
    return overrides, where, token is None


@click.command("server:start-dev")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", "-p", type=click.IntRange(0, 65535), default=8080, show_default=True, help="TCP port."
)
@click.option(
    "--db-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file to use (default: $XDG_DATA_HOME/durable-workflow/dev.sqlite3).",
)
@click.option("--in-memory", is_flag=True, help="Keep everything in memory; nothing survives a restart.")
def start_dev(host: str, port: int, db_file: Path | None, in_memory: bool) -> None:
    """Start a zero-setup development server (SQLite, migrations applied at startup)."""
    if db_file is not None and in_memory:
        raise click.UsageError("--db-file and --in-memory cannot be used together.")
    server = _load_server()
    env = dict(os.environ)
    overrides, where, token_defaulted = dev_settings_overrides(db_file=db_file, in_memory=in_memory, env=env)
    settings = server.Settings.from_env(env, **overrides)
    if token_defaulted:
        output.line(f"DW_AUTH_TOKEN is not set; using the development token '{DEV_TOKEN}'.")
    output.line(f"Durable Workflow dev server listening on http://{host}:{port} (database: {where})")
    server.serve(settings, host=host, port=port)


@click.command("server:start")
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", "-p", type=click.IntRange(0, 65535), default=8080, show_default=True, help="TCP port."
)
@click.option(
    "--database",
    envvar="DW_DATABASE_URL",
    default=None,
    help="Database URL: sqlite:///PATH or postgresql://... (env DW_DATABASE_URL).",
)
def start(host: str, port: int, database: str | None) -> None:
    """Start the server for production use; other settings come from DW_* variables."""
    if not database:
        raise click.UsageError("a database URL is required: pass --database or set DW_DATABASE_URL.")
    if not database.startswith(("sqlite:", "postgresql:", "postgresql+asyncpg:", "postgres:")):
        raise click.BadParameter("use sqlite:///PATH or postgresql://...", param_hint="--database")
    server = _load_server()
    settings = server.Settings.from_env(database_url=database)
    output.line(f"Durable Workflow server listening on http://{host}:{port} (database: {_redact(database)})")
    server.serve(settings, host=host, port=port)


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


COMMANDS = (start_dev, start)
