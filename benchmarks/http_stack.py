"""Server CPU per request of the HTTP stack alone (uvicorn, the ASGI layers, guards, envelope).

Starts the server app in a subprocess, as ``serve`` runs it (uvicorn with our connection-limited
protocol, token auth, lifespan), but with the engine faked at its seam: each engine call answers
a canned body at once, so the figure is the per-request cost of everything around the engine.
Then sends N keep-alive requests over a few connections (a raw-socket client, so the client's own
cost stays small on a shared machine) and prints the server process's CPU time per request
(utime + stime from ``/proc/<pid>/stat``), over the measured batch after a warm-up.

Requests: ``POST /api/worker/heartbeat`` (the worker plane: body, token, version, namespace) and
``GET /api/workflows/{id}`` (the control plane's envelope with its ``control_plane`` block).

``--server-src DIR`` (repeatable) runs the app from another source tree, alternating the trees
round by round so they are compared side by side on the same noisy machine.

    .venv/bin/python benchmarks/http_stack.py --requests 20000 --rounds 6 \\
        --server-src /tmp/base/src --server-src src
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
TOKEN = "stack-token"
ROOT = Path(__file__).resolve().parent.parent

# The server side: run in the subprocess with the tree under test first on sys.path.
SERVER = r'''
import asyncio, socket, sys
from typing import Any
import uvicorn
from durable_workflow_server.app import create_app
from durable_workflow_server.connections import ConnectionGuard, ConnectionLimits, uvicorn_options
from durable_workflow_server.settings import Settings

class Engine:
    """Answers the calls the benchmark's routes make, at once (no database)."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    def stop_polling(self) -> None: ...
    def long_polls_waiting(self) -> int:
        return 0
    async def namespace_exists(self, name: str) -> bool:
        return name == "default"
    async def heartbeat_worker(self, namespace: str, worker_id: str, **_: Any) -> dict[str, Any]:
        return {"worker_id": worker_id, "acknowledged": True}
    async def describe_workflow(self, namespace: str, workflow_id: str, run_id: Any = None) -> dict[str, Any]:
        return {"workflow_id": workflow_id, "run_id": "run-1", "workflow_type": "bench", "status": "running",
                "task_queue": "q", "input": [1, 2, 3], "memo": {}, "search_attributes": {}}
    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)

token = sys.argv[1]
settings = Settings.from_env(auth_driver="token", worker_token=token, operator_token=token + "-op")
sock = socket.socket(); sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0)); sock.listen(2048)
print(sock.getsockname()[1], flush=True)
app = create_app(settings, engine=Engine())
guard = ConnectionGuard(ConnectionLimits.of(settings))
config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", server_header=False,
                        proxy_headers=False, **uvicorn_options(settings, guard))
uvicorn.Server(config).run(sockets=[sock])
'''


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def requests() -> list[bytes]:
    body = b'{"worker_id":"worker-1","task_slots":{"workflow":4,"activity":8}}'
    heartbeat = (
        b"POST /api/worker/heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n"
        b"Accept-Encoding: gzip, deflate\r\nUser-Agent: bench\r\n"
        b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Type: application/json\r\n"
        b"X-Durable-Workflow-Protocol-Version: 1.0\r\nX-Namespace: default\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    describe = (
        b"GET /api/workflows/wf-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n"
        b"Accept-Encoding: gzip, deflate\r\nUser-Agent: bench\r\n"
        b"Authorization: Bearer " + TOKEN.encode() + b"-op\r\n"
        b"X-Durable-Workflow-Control-Plane-Version: 2\r\nX-Namespace: default\r\n\r\n"
    )
    return [heartbeat, heartbeat, heartbeat, describe]


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def drive(port: int, count: int, connections: int) -> None:
    """``count`` requests over ``connections`` keep-alive connections, one in flight on each."""
    mix = requests()

    async def one(n: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in range(n):
            writer.write(mix[i % len(mix)])
            status = await _read_response(reader)
            if status != 200:
                raise RuntimeError(f"unexpected status {status}")
        writer.close()

    await asyncio.gather(*(one(count // connections) for _ in range(connections)))


def run_tree(src: Path, count: int, connections: int) -> float:
    """Server CPU microseconds per request for the tree at ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, TOKEN], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        asyncio.run(drive(port, max(count // 5, connections), connections))  # warm-up
        before = cpu_seconds(proc.pid)
        asyncio.run(drive(port, count, connections))
        return (cpu_seconds(proc.pid) - before) / count * 1e6
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server-src", action="append", type=Path, help="a source tree's src/ (repeatable)")
    args = parser.parse_args()
    trees = [p.resolve() for p in (args.server_src or [ROOT / "src"])]
    figures: dict[Path, list[float]] = {tree: [] for tree in trees}
    for round_no in range(args.rounds):
        for tree in trees:
            micros = run_tree(tree, args.requests, args.connections)
            figures[tree].append(micros)
            print(f"round {round_no + 1} {tree}: {micros:.1f} us/request", flush=True)
    for tree, values in figures.items():
        print(f"{tree}: median {statistics.median(values):.1f} us/request over {len(values)} rounds")


if __name__ == "__main__":
    main()
