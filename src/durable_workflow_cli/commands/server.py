"""``dw server:start-dev`` and ``dw server:start``: run the embedded server in this process.

The server package is imported only inside the commands, so ``dw`` works without the
``[server]`` extra and these two commands explain how to get it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import output

SERVER_INSTALL_HINT = "the embedded server needs the server extra: pip install 'durable-workflow[server]'"
DEV_TOKEN = "dev-token"
F = TypeVar("F", bound=Callable[..., Any])
_SERVER_MODULES = {
    "durable_workflow_server",
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


def dev_database(*, db_file: Path | None, in_memory: bool, env: dict[str, str]) -> tuple[str, str]:
    """The dev server's database URL and how to describe it (the file's directory is created)."""
    if in_memory:
        return "sqlite:///:memory:", "in memory (nothing is kept)"
    path = (db_file or default_dev_database(env)).expanduser().resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(
            f"cannot create the directory of the database file {path}: {exc.strerror or exc}"
        ) from exc
    return sqlite_url(path), str(path)


def wants_dev_token(settings: Any) -> bool:
    """Whether the dev server should fall back to ``dev-token``: only when nothing is configured.

    Any token (``DW_AUTH_TOKEN``, a role token, ``DW_NAMESPACE_TOKENS``), any signature key, or
    a driver other than ``token`` (``DW_AUTH_DRIVER=none`` / ``signature``, or an unknown one,
    which then refuses to start) means the operator chose the credentials: adding ``dev-token``
    would hand out an admin credential they did not ask for.
    """
    return bool(settings.auth_driver_name == "token" and not settings.has_credentials())


def _settings(server: Any, env: dict[str, str], **overrides: Any) -> Any:
    """``Settings.from_env`` with a malformed ``DW_*`` value (or auth configuration) as one line."""
    try:
        return server.Settings.from_env(env, **overrides)
    except ValueError as exc:
        raise click.ClickException(f"invalid configuration: {exc}") from exc


_PORT_OPTION = click.option(
    "--port",
    "-p",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="TCP port (0: any free one).",
)


def _host_option(default: str) -> Callable[[F], F]:
    return click.option("--host", default=default, show_default=True, help="Interface to listen on.")


@click.command("server:start-dev")
@_host_option("127.0.0.1")
@_PORT_OPTION
@click.option(
    "--db-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file to use (default: $XDG_DATA_HOME/durable-workflow/dev.sqlite3).",
)
@click.option("--in-memory", is_flag=True, help="Keep everything in memory; nothing survives a restart.")
def start_dev(host: str, port: int, db_file: Path | None, in_memory: bool) -> None:
    """Start a zero-setup development server (SQLite, migrations applied at startup).

    \b
    Example:
      DW_AUTH_TOKEN=dev-token dw server:start-dev --port=8080
    """
    if db_file is not None and in_memory:
        raise click.UsageError("--db-file and --in-memory cannot be used together.")
    server = _load_server()
    env = dict(os.environ)
    database_url, where = dev_database(db_file=db_file, in_memory=in_memory, env=env)
    settings = _settings(server, env, database_url=database_url)
    if wants_dev_token(settings):
        settings = _settings(server, env, database_url=database_url, auth_token=DEV_TOKEN)
        output.line(f"No auth token is configured; using the development token '{DEV_TOKEN}'.")
    _serve(server, settings, host, port, what="Durable Workflow dev server", database=where)


@click.command("server:start")
@_host_option("0.0.0.0")
@_PORT_OPTION
@click.option(
    "--database",
    envvar="DW_DATABASE_URL",
    default=None,
    help="Database URL: sqlite:///PATH or postgresql://... (env DW_DATABASE_URL).",
)
def start(host: str, port: int, database: str | None) -> None:
    """Start the server for production use; other settings come from DW_* variables.

    It needs a credential (DW_AUTH_TOKEN, DW_WORKER_TOKEN / DW_OPERATOR_TOKEN / DW_ADMIN_TOKEN,
    DW_NAMESPACE_TOKENS or signature keys) or an explicit DW_AUTH_DRIVER=none.

    \b
    Example:
      DW_AUTH_TOKEN=secret dw server:start --database=postgresql://dw@db/dw --port=8080
    """
    if not database:
        raise click.UsageError("a database URL is required: pass --database or set DW_DATABASE_URL.")
    if not database.startswith(("sqlite:", "postgresql:", "postgresql+asyncpg:", "postgres:")):
        raise click.BadParameter("use sqlite:///PATH or postgresql://...", param_hint="--database")
    server = _load_server()
    # No default credential here: with nothing configured the server refuses to start (one
    # line) unless DW_AUTH_DRIVER=none says to serve without authentication.
    settings = _settings(server, dict(os.environ), database_url=database)
    _serve(server, settings, host, port, what="Durable Workflow server", database=_redact(database))


def _serve(server: Any, settings: Any, host: str, port: int, *, what: str, database: str) -> None:
    """Run the server; a start-up failure (port taken, database unusable) is one line and exit 1.

    The "listening" line is printed only once the server really listens, with the real port.
    """
    from durable_workflow_server.app import ServerStartError

    problem = settings.auth_problem()
    if problem is not None:
        raise click.ClickException(f"cannot start: {problem}")

    def announce(url: str) -> None:
        output.line(f"{what} listening on {url} (database: {database})")
        output.line(f"UI: {url}/")

    try:
        server.serve(settings, host=host, port=port, announce=announce)
    except ServerStartError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:  # Ctrl-C before uvicorn took over the signals
        raise SystemExit(130) from None


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


COMMANDS = (start_dev, start)
