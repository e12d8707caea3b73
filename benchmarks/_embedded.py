"""Start a server on a free port for a benchmark run (or use one that is already running).

* default: ``dw server:start-dev --in-memory``;
* ``--database URL``: ``dw server:start --database URL`` (a SQLite file or PostgreSQL);
* ``--url URL``: an already running server (e.g. one started under ``py-spy record``).

Every run uses fresh workflow ids and a fresh task queue, so a reused database (PostgreSQL, a
SQLite file) never mixes old work into the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

TOKEN = os.environ.get("DW_AUTH_TOKEN", "bench-token")


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """``--database`` / ``--url``: where the benchmark's server keeps its data."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--database",
        metavar="URL",
        help="run `dw server:start --database URL` instead of the in-memory dev server",
    )
    where.add_argument("--url", help="use an already running server at this URL (token: $DW_AUTH_TOKEN)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with every figure")


def describe(args: argparse.Namespace) -> str:
    """A short label of the database the figures were taken on."""
    if args.url:
        return f"server at {args.url}"
    if args.database:
        return args.database.split("://", 1)[0] + " " + _redact(args.database)
    return "sqlite in-memory (dw server:start-dev --in-memory)"


def _redact(url: str) -> str:
    scheme, _, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    return f"{scheme}://{userinfo}{at}{host}"


def run_tag() -> str:
    """A short unique tag for this run's workflow ids and task queue."""
    return uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class Server:
    """A server the benchmark talks to: its base URL, and its process id when we started it."""

    url: str
    pid: int | None


@contextlib.asynccontextmanager
async def embedded_server(
    args: argparse.Namespace | None = None, *, env: dict[str, str] | None = None
) -> AsyncIterator[Server]:
    """Yield a fresh server (or the given one, without a pid); stop it afterwards.

    ``env``: extra environment of the server process (e.g. ``PYTHONPATH`` of an older source
    tree, to run a baseline server beside the current one).
    """
    if args is not None and args.url:
        yield Server(args.url.rstrip("/"), None)
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dw = Path(sys.executable).with_name("dw")
    if args is not None and args.database:
        command = [str(dw), "server:start", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--database", args.database]
    else:
        command = [str(dw), "server:start-dev", "--port", str(port), "--in-memory"]
    child = subprocess.Popen(
        command,
        env=dict(os.environ, DW_AUTH_TOKEN=TOKEN, **(env or {})),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                if child.poll() is not None:
                    raise SystemExit(
                        f"server failed to start: {child.stderr.read().decode() if child.stderr else ''}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{url}/api/ready")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
        yield Server(url, child.pid)
    finally:
        child.terminate()
        child.wait(timeout=10)


def machine() -> str:
    """One line naming the machine the figures were taken on."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
