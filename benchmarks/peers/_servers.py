"""Starting and stopping the servers (and runners) of the peers benchmark, all on 127.0.0.1.

Every process is started in its own session and recorded in ``PROCESSES``; ``stop`` ends one
(SIGTERM to its group, SIGKILL after a bound), and ``stop_all`` (run on exit, Ctrl-C and SIGTERM by
``run.py``) ends whatever is still recorded, so no server outlives the benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
TOKEN = "bench-token"

PROCESSES: list[subprocess.Popen[bytes]] = []


class ServerError(RuntimeError):
    """A server that did not start; the message is the row's one-line reason."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def spawn(
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session (so its whole group can be ended), recorded."""
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
    try:
        child = subprocess.Popen(
            list(command),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]
    PROCESSES.append(child)
    return child


def stop(child: subprocess.Popen[bytes]) -> None:
    """End ``child`` and its group: SIGTERM, then SIGKILL after ``STOP_TIMEOUT`` seconds."""
    if child.poll() is None:
        _signal_group(child, signal.SIGTERM)
        try:
            child.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _signal_group(child, signal.SIGKILL)
            child.wait(timeout=STOP_TIMEOUT)
    # A group member may outlive its leader (a server's helper process): end those too.
    _signal_group(child, signal.SIGKILL)
    if child in PROCESSES:
        PROCESSES.remove(child)


def stop_all() -> None:
    """End every process still recorded (newest first)."""
    for child in reversed(list(PROCESSES)):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            stop(child)


def _signal_group(child: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # The child leads its own session, so its process group id is its pid: only what we started.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)


def wait_http(child: subprocess.Popen[bytes], urls: Sequence[str], log: Path | None, what: str) -> None:
    """Wait until every URL answers 200, or fail with the server's last log line."""
    deadline = time.monotonic() + READY_TIMEOUT
    pending = list(urls)
    while pending:
        if child.poll() is not None:
            raise ServerError(f"{what} exited with status {child.returncode}: {_tail(log)}")
        if time.monotonic() > deadline:
            raise ServerError(f"{what} not ready after {READY_TIMEOUT:.0f} s: {_tail(log)}")
        try:
            with urllib.request.urlopen(pending[0], timeout=2.0) as answer:
                if answer.status == 200:
                    pending.pop(0)
                    continue
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return "no log"
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:200] if lines else "empty log"


@contextlib.contextmanager
def running(
    command: Sequence[str], ready: Sequence[str], what: str, workdir: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server for the duration of the block, once ``ready`` URLs answer 200."""
    log = workdir / f"{what.split()[0].lower()}.log"
    child = spawn(command, env=env, log=log, cwd=workdir)
    try:
        wait_http(child, ready, log, what)
        yield child
    finally:
        stop(child)


@contextlib.contextmanager
def temporal(binary: Path, workdir: Path, *, on_file: bool) -> Iterator[str]:
    """``temporal server start-dev`` (in memory, or on a SQLite file); yields host:port."""
    port, http_port, metrics_port = free_port(), free_port(), free_port()
    command = [str(binary), "server", "start-dev", "--headless", "--ip", "127.0.0.1"]
    command += ["--port", str(port), "--http-port", str(http_port), "--metrics-port", str(metrics_port)]
    command += ["--log-level", "error"]
    if on_file:
        command += ["--db-filename", str(workdir / "temporal.sqlite")]
    # The HTTP API answers for the default namespace once the server can take work.
    ready = [f"http://127.0.0.1:{http_port}/api/v1/namespaces/default"]
    with running(command, ready, "Temporal dev server", workdir):
        yield f"127.0.0.1:{port}"


@contextlib.contextmanager
def restate(binary: Path, workdir: Path) -> Iterator[tuple[str, str]]:
    """``restate-server`` with its data in ``workdir``; yields (ingress URL, admin URL)."""
    ingress, admin, fabric = free_port(), free_port(), free_port()
    env = dict(
        os.environ,
        RESTATE_INGRESS__BIND_ADDRESS=f"127.0.0.1:{ingress}",
        RESTATE_ADMIN__BIND_ADDRESS=f"127.0.0.1:{admin}",
    )
    command = [str(binary), "--no-logo", "--listen-mode", "tcp", "--node-name", "peers-bench"]
    command += ["--bind-address", f"127.0.0.1:{fabric}", "--base-dir", str(workdir / "restate-data")]
    ready = [f"http://127.0.0.1:{admin}/health", f"http://127.0.0.1:{ingress}/restate/health"]
    with running(command, ready, "Restate server", workdir, env=env):
        yield f"http://127.0.0.1:{ingress}", f"http://127.0.0.1:{admin}"


@contextlib.contextmanager
def ours(dw: Path, workdir: Path, database: str | None) -> Iterator[str]:
    """``dw server:start --database URL``, or ``dw server:start-dev --in-memory`` without one."""
    port = free_port()
    if database is None:
        command = [str(dw), "server:start-dev", "--in-memory", "--port", str(port)]
    else:
        command = [
            str(dw),
            "server:start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database",
            database,
        ]
    env = dict(os.environ, DW_AUTH_TOKEN=TOKEN)
    with running(command, [f"http://127.0.0.1:{port}/api/ready"], "Durable Workflow server", workdir, env):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def postgres_database(admin_url: str, name: str) -> Iterator[str]:
    """A fresh PostgreSQL database ``name`` (dropped first if left over), dropped afterwards."""
    _postgres(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        _postgres(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres(admin_url: str, *statements: str) -> None:
    # asyncpg is already in the repository's venv (the server's PostgreSQL driver).
    import asyncpg

    async def apply() -> None:
        connection = await asyncpg.connect(admin_url, timeout=10)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    try:
        asyncio.run(apply())
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        raise ServerError(f"PostgreSQL at {admin_url.rsplit('@', 1)[-1]}: {exc}") from exc
