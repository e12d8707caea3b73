"""The configurations of the peers benchmark: which runner, in which venv, against which server.

Each configuration's ``prepare`` starts what it needs (a server, a fresh database) in a fresh
work directory and yields the runner's arguments; leaving the block stops and drops it all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import _servers

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Context:
    """What a configuration may use: its work directory, the peers' binaries, ``dw``, PostgreSQL."""

    workdir: Path
    binaries: dict[str, Path]
    dw: Path
    postgres: str = POSTGRES_ADMIN


Prepare = Callable[[Context], contextlib.AbstractContextManager[list[str]]]


@dataclass(frozen=True)
class Config:
    """One row of the table."""

    name: str
    label: str
    peer: str  # the venv its runner runs in: "dbos", "temporal", "restate", or "ours" (the repo's)
    runner: str  # the runner module's file name, beside this one
    prepare: Prepare


def _dbos_sqlite(api: str) -> Prepare:
    @contextlib.contextmanager
    def prepare(ctx: Context) -> Iterator[list[str]]:
        yield ["--database", f"sqlite:///{ctx.workdir / 'dbos.sqlite'}", "--api", api]

    return prepare


def _dbos_postgres(api: str) -> Prepare:
    @contextlib.contextmanager
    def prepare(ctx: Context) -> Iterator[list[str]]:
        with _servers.postgres_database(ctx.postgres, "dw_peers_dbos") as url:
            yield ["--database", url, "--api", api]

    return prepare


def _temporal(on_file: bool) -> Prepare:
    @contextlib.contextmanager
    def prepare(ctx: Context) -> Iterator[list[str]]:
        with _servers.temporal(ctx.binaries["temporal"], ctx.workdir, on_file=on_file) as url:
            yield ["--url", url]

    return prepare


@contextlib.contextmanager
def _restate(ctx: Context) -> Iterator[list[str]]:
    with _servers.restate(ctx.binaries["restate-server"], ctx.workdir) as (ingress, admin):
        yield ["--url", ingress, "--admin-url", admin, "--service-port", str(_servers.free_port())]


@contextlib.contextmanager
def _ours_file(ctx: Context) -> Iterator[list[str]]:
    with _servers.ours(ctx.dw, ctx.workdir, f"sqlite:///{ctx.workdir / 'ours.sqlite'}") as url:
        yield ["--url", url]


@contextlib.contextmanager
def _ours_memory(ctx: Context) -> Iterator[list[str]]:
    with _servers.ours(ctx.dw, ctx.workdir, None) as url:
        yield ["--url", url]


@contextlib.contextmanager
def _ours_postgres(ctx: Context) -> Iterator[list[str]]:
    with (
        _servers.postgres_database(ctx.postgres, "dw_peers_ours") as database,
        _servers.ours(ctx.dw, ctx.workdir, database) as url,
    ):
        yield ["--url", url]


@contextlib.contextmanager
def _ours_in_process(ctx: Context) -> Iterator[list[str]]:
    yield ["--database", f"sqlite:///{ctx.workdir / 'inproc.sqlite'}"]


CONFIGS: tuple[Config, ...] = (
    Config("dbos-sqlite", "DBOS, SQLite file, start_workflow (thread pool)", "dbos", "dbos_runner.py",
           _dbos_sqlite("sync")),
    Config("dbos-sqlite-async", "DBOS, SQLite file, start_workflow_async", "dbos", "dbos_runner.py",
           _dbos_sqlite("async")),
    Config("dbos-pg", "DBOS, PostgreSQL, start_workflow (thread pool)", "dbos", "dbos_runner.py",
           _dbos_postgres("sync")),
    Config("dbos-pg-async", "DBOS, PostgreSQL, start_workflow_async", "dbos", "dbos_runner.py",
           _dbos_postgres("async")),
    Config("temporal-memory", "Temporal dev server, in memory", "temporal", "temporal_runner.py",
           _temporal(on_file=False)),
    Config("temporal-file", "Temporal dev server, SQLite file", "temporal", "temporal_runner.py",
           _temporal(on_file=True)),
    Config("restate", "Restate server (its own store), Hypercorn service", "restate", "restate_runner.py",
           _restate),
    Config("ours-file", "dw server:start, SQLite file", "ours", "ours_runner.py", _ours_file),
    Config("ours-memory", "dw server:start-dev --in-memory", "ours", "ours_runner.py", _ours_memory),
    Config("ours-pg", "dw server:start, PostgreSQL", "ours", "ours_runner.py", _ours_postgres),
    Config("ours-inproc", "embedded(), SQLite file, in-process", "ours", "ours_runner.py", _ours_in_process),
)  # fmt: skip


def select(only: str | None) -> list[Config]:
    """The configurations named in ``--only`` (comma-separated), in table order; all by default."""
    if not only:
        return list(CONFIGS)
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    known = {config.name for config in CONFIGS}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise SystemExit(
            f"unknown configuration(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    return [config for config in CONFIGS if config.name in wanted]
