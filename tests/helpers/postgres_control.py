"""Controlling the machine's PostgreSQL from a test: terminate backends, restart the cluster.

Only the tests that own a PostgreSQL failure use this. The restart goes through Debian's
``pg_ctlcluster`` (as root it acts as the cluster's owner); :func:`wait_accepting` returns once
the server accepts connections again, so nothing after the test meets a database still starting.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from urllib.parse import urlsplit

PG_CTLCLUSTER = shutil.which("pg_ctlcluster")
PG_LSCLUSTERS = shutil.which("pg_lsclusters")


def _port(url: str) -> int:
    return urlsplit(url).port or 5432


def cluster_of(url: str) -> tuple[str, str] | None:
    """``(version, name)`` of the local cluster serving ``url``'s port, or ``None``."""
    if PG_LSCLUSTERS is None:
        return None
    listing = subprocess.run([PG_LSCLUSTERS, "-h"], capture_output=True, text=True, timeout=30, check=False)
    for line in listing.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == str(_port(url)) and fields[3] == "online":
            return fields[0], fields[1]
    return None


def restart_unavailable_reason(url: str) -> str | None:
    """Why this process cannot restart the PostgreSQL behind ``url`` (``None``: it can)."""
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost"):
        return f"PostgreSQL at {host} is not local"
    if PG_CTLCLUSTER is None or cluster_of(url) is None:
        return "no pg_ctlcluster-managed cluster on this port"
    if os.geteuid() != 0:
        return "restarting PostgreSQL needs root (pg_ctlcluster)"
    return None


def restart(url: str) -> float:
    """Restart the cluster (fast shutdown: open sessions are terminated); returns the seconds it took."""
    found = cluster_of(url)
    assert found is not None and PG_CTLCLUSTER is not None
    version, name = found
    started = time.monotonic()
    subprocess.run([PG_CTLCLUSTER, version, name, "restart", "-m", "fast"], check=True, timeout=120)
    return time.monotonic() - started


def ensure_running(url: str) -> None:
    """Start the cluster if a failed restart left it down (best effort, for a test's finally)."""
    if PG_LSCLUSTERS is None or PG_CTLCLUSTER is None:
        return
    listing = subprocess.run([PG_LSCLUSTERS, "-h"], capture_output=True, text=True, timeout=30, check=False)
    for line in listing.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == str(_port(url)) and fields[3] != "online":
            subprocess.run([PG_CTLCLUSTER, fields[0], fields[1], "start"], check=False, timeout=120)


def _dsn(url: str) -> str:
    _, sep, rest = url.partition("://")
    return f"postgresql{sep}{rest}"


async def wait_accepting(url: str, timeout: float = 60.0) -> None:
    """Return once PostgreSQL answers ``SELECT 1`` on ``url``; raise after ``timeout`` seconds."""
    import asyncpg

    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = await asyncpg.connect(_dsn(url), timeout=5)
            try:
                await conn.fetchval("SELECT 1")
                return
            finally:
                await conn.close()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncio.TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def terminate_backends(url: str, database: str, *, application_name: str | None = None) -> int:
    """``pg_terminate_backend`` every other session of ``database``; how many were terminated."""
    import asyncpg

    conn = await asyncpg.connect(_dsn(url))
    try:
        query = (
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()"
        )
        args: list[str] = [database]
        if application_name is not None:
            query += " AND application_name = $2"
            args.append(application_name)
        return int(await conn.fetchval(query, *args))
    finally:
        await conn.close()
