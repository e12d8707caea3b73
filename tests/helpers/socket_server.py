"""The real app on a real socket, served by uvicorn in a background thread of this process.

For clients that run their own event loop (the blocking ``sync.Client``): the app keeps to
uvicorn's loop, the client to its own, and they meet only over TCP, as in production.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from durable_workflow_server import Settings, create_app
from tests.helpers.server_process import free_port

STARTUP_TIMEOUT = 30.0


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """Serve ``create_app(settings)`` on 127.0.0.1 until the block ends; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    with running(uvicorn.Server(config)):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def running(server: uvicorn.Server, name: str = "dw-test-server") -> Iterator[threading.Thread]:
    """Run ``server`` in a daemon thread: yield the thread once it serves, stop it when the block ends."""
    started = threading.Event()
    original_startup = server.startup

    async def startup(sockets: object = None) -> None:
        await original_startup(sockets)  # type: ignore[arg-type]
        started.set()

    server.startup = startup  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    try:
        if not started.wait(STARTUP_TIMEOUT) or not server.started:
            raise RuntimeError("the test server did not start")
        yield thread
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)
