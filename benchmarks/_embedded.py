"""Start `dw server:start-dev --in-memory` on a free port for a benchmark run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

TOKEN = "bench-token"


@contextlib.asynccontextmanager
async def embedded_server() -> AsyncIterator[str]:
    """Yield the base URL of a fresh embedded server; stop it afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dw = Path(sys.executable).with_name("dw")
    child = subprocess.Popen(
        [str(dw), "server:start-dev", "--port", str(port), "--in-memory"],
        env=dict(os.environ, DW_AUTH_TOKEN=TOKEN),
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
        yield url
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
