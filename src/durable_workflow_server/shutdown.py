"""A graceful stop on SIGTERM / SIGINT: parked long polls answered at once, exit status 0.

uvicorn's shutdown stops accepting, waits for open connections to finish (up to its grace
period), then runs the lifespan shutdown, which closes the engine. A parked long poll would hold
its connection until the grace period ends and then be cancelled (a 500). So the engine is told
first (:meth:`~.engine.api.EngineAPI.stop_polling`): parked polls answer an empty result and
finish with the other in-flight requests.

uvicorn re-raises the signal it caught once it has stopped; with the default SIGTERM handler
that kills the process (status -15) after a clean stop. :func:`terminating` installs a handler
that only records the signal, so a clean stop exits 0.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from socket import socket
from types import FrameType

import uvicorn


class GracefulServer(uvicorn.Server):
    """``uvicorn.Server`` that stops the engine's long polls as soon as a shutdown begins."""

    def __init__(
        self, config: uvicorn.Config, stop_polling: Callable[[], None], terminated: Callable[[], bool]
    ) -> None:
        super().__init__(config)
        self.stop_polling = stop_polling
        self.terminated = terminated

    async def startup(self, sockets: list[socket] | None = None) -> None:
        await super().startup(sockets)
        # A SIGTERM that came before uvicorn's own handlers were installed still stops it.
        if self.terminated():
            self.should_exit = True

    async def shutdown(self, sockets: list[socket] | None = None) -> None:
        self.stop_polling()
        await super().shutdown(sockets)


@contextmanager
def terminating() -> Iterator[Callable[[], bool]]:
    """While the block runs, SIGTERM is recorded (not fatal); yields "was SIGTERM received?".

    Outside the main thread signals cannot be handled, and nothing is changed.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: bool(received)
        return

    def record(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGTERM, record)
    try:
        yield lambda: bool(received)
    finally:
        signal.signal(signal.SIGTERM, previous)
