"""Run `dw server:start-dev` as a real process on a real socket (smoke tests, benchmarks)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

DW = Path(sys.executable).with_name("dw")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """One `dw server:start-dev` (or `dw server:start --database`) child process."""

    def __init__(
        self,
        port: int,
        db_file: Path | None,
        token: str = "dev-token",
        *,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        self.port = port
        self.db_file = db_file
        self.database_url = database_url
        self.token = token
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = log or Path(os.environ.get("TMPDIR", "/tmp")) / f"dw-server-{port}.log"
        self.extra_env = dict(env or {})  # e.g. the chaos test's short leases

    def start(self, timeout: float = 30.0) -> ServerProcess:
        if self.database_url:  # the production command, e.g. on a shared PostgreSQL
            args = [str(DW), "server:start", "--host", "127.0.0.1", "--port", str(self.port)]
            args += ["--database", self.database_url]
        else:
            args = [str(DW), "server:start-dev", "--port", str(self.port)]
            args += ["--db-file", str(self.db_file)] if self.db_file else ["--in-memory"]
        env = dict(os.environ, **self.extra_env, DW_AUTH_TOKEN=self.token)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.log.read_text()}")

    def kill_hard(self) -> None:
        """SIGKILL: no shutdown hooks run, exactly like a crash."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
