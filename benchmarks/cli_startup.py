"""Cold start of ``dw``: wall time of ``dw --help`` and of ``dw workflow:describe``, process to exit.

Each run is a fresh process (the installed ``dw`` script of this interpreter's environment), so
the figure is what a person waits for at the prompt: interpreter start, imports, the command.
``workflow:describe`` talks to a stub server in this process (the standard library's HTTP
server on a loopback port, answering the preflight's ``/cluster/info`` and the describe from
canned bodies), so it measures the CLI's start-up and its two requests, not a real server.

    .venv/bin/python benchmarks/cli_startup.py [--runs 30]

To see where start-up time goes: ``.venv/bin/python -X importtime -m durable_workflow_cli.main --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _embedded import machine

CLUSTER_INFO = {
    "server_id": "bench",
    "version": "0.1.0",
    "control_plane": {
        "version": "2",
        "request_contract": {
            "schema": "durable-workflow.v2.control-plane-request.contract",
            "version": 1,
            "operations": {},
        },
    },
    "worker_protocol": {"version": "1.0"},
}
DESCRIBE = {
    "workflow_id": "wf-1",
    "run_id": "run-1",
    "workflow_type": "bench",
    "status": "running",
    "status_bucket": "running",
    "control_plane": {"schema": "durable-workflow.v2.control-plane-response", "version": 1},
}


class Stub(BaseHTTPRequestHandler):
    """Canned answers: the cluster manifest, and one running workflow."""

    def do_GET(self) -> None:
        body = CLUSTER_INFO if self.path.startswith("/api/cluster/info") else DESCRIBE
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Durable-Workflow-Control-Plane-Version", "2")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextmanager
def stub_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def dw_command() -> list[str]:
    """The ``dw`` script next to this interpreter (as installed), else ``python -m``."""
    script = Path(sys.executable).with_name("dw")
    if script.exists():
        return [str(script)]
    found = shutil.which("dw")
    return [found] if found else [sys.executable, "-m", "durable_workflow_cli.main"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) milliseconds of ``runs`` fresh processes.

    One unmeasured warm-up run first (file cache, bytecode). The CPU time is the steadier figure
    on a shared machine: it does not grow while the process waits for a core.
    """
    subprocess.run(argv, env=env, capture_output=True, check=True)
    walls, cpus = [], []
    for _ in range(runs):
        cpu_before = _children_cpu()
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True)
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((_children_cpu() - cpu_before) * 1000)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    return walls, cpus


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def summary(name: str, measured: tuple[list[float], list[float]]) -> str:
    walls, cpus = measured
    return (
        f"{name:<22} wall median {statistics.median(walls):5.0f} ms  p90 {_p90(walls):5.0f} ms"
        f"   cpu median {statistics.median(cpus):5.0f} ms   ({len(walls)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="Processes per command (default 30).")
    args = parser.parse_args()
    dw = dw_command()
    with tempfile.TemporaryDirectory() as home:
        # No profile, no user settings: the default resolution path.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "DW_CONFIG_HOME": home}
        print(f"dw cold start on {machine()}, load average {os.getloadavg()[0]:.1f} ({' '.join(dw)})")
        print(summary("dw --help", timed([*dw, "--help"], env, args.runs)))
        with stub_server() as url:
            describe = [*dw, "workflow:describe", "wf-1", f"--server={url}"]
            print(summary("dw workflow:describe", timed(describe, env, args.runs)))
        baseline = [sys.executable, "-c", "pass"]
        print(summary("python -c pass", timed(baseline, env, args.runs)))


if __name__ == "__main__":
    main()
