"""The app behind uvicorn as ``serve()`` runs it (connection limits, graceful shutdown), in a thread.

Like ``socket_server.serving`` but with ``uvicorn_options`` applied and the ``GracefulServer``
of ``shutdown.py`` (a thread cannot take signals: ``Served.stop`` starts the same shutdown), and
the :class:`ConnectionGuard` handed back so tests can read what it closed.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from durable_workflow_server import Settings, create_app
from durable_workflow_server.connections import ConnectionGuard, ConnectionLimits, uvicorn_options
from durable_workflow_server.shutdown import GracefulServer
from tests.helpers.server_process import free_port
from tests.helpers.socket_server import running


@dataclass
class Served:
    url: str
    port: int
    guard: ConnectionGuard
    server: GracefulServer
    thread: threading.Thread

    def stop(self) -> None:
        """Begin the graceful shutdown, as SIGTERM does (returns at once)."""
        self.server.should_exit = True

    def connect(self, timeout: float = 10.0) -> socket.socket:
        """A raw TCP connection to the server (``timeout`` bounds every blocking call)."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)


@contextmanager
def limited_serving(
    settings: Settings, *, engine: Any = None, implementation: str = "auto"
) -> Iterator[Served]:
    port = free_port()
    guard = ConnectionGuard(ConnectionLimits.of(settings))
    app = create_app(settings, engine=engine)
    options = uvicorn_options(settings, guard, implementation)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options)
    server = GracefulServer(config, app.state.engine.stop_polling, lambda: False)
    with running(server, "dw-limited-server") as thread:
        yield Served(f"http://127.0.0.1:{port}", port, guard, server, thread)


def read_until_closed(sock: socket.socket, limit: int = 1 << 20) -> bytes:
    """Everything the server sends until it closes (``sock``'s timeout bounds the wait)."""
    chunks: list[bytes] = []
    while sum(map(len, chunks)) < limit:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
