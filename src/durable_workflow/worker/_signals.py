"""SIGTERM as a graceful stop while a worker runs (systemd, Docker and Kubernetes send it).

Without this, SIGTERM kills the process at once: in-flight tasks are lost until the server
notices the worker is gone. With it, :meth:`Worker.run` treats SIGTERM like :meth:`Worker.stop`:
no new polls, in-flight tasks drain for up to ``shutdown_timeout``, then the worker tells the
server it is gone.

The handler is installed only where it cannot surprise an application: on the main thread's
event loop, when SIGTERM still has Python's default disposition (an application that installed
its own handler keeps it), and on loops that support signal handlers (not Windows' proactor).
It is removed when the run ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator

logger = logging.getLogger("durable_workflow.worker")


@contextlib.contextmanager
def stop_on_sigterm(stop: Callable[[], None], worker_id: str) -> Iterator[bool]:
    """Call ``stop`` on SIGTERM while the block runs; yields whether the handler was installed."""
    loop = asyncio.get_running_loop()
    installed = False
    if threading.current_thread() is threading.main_thread():
        with contextlib.suppress(ValueError, OSError):
            installed = signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

    def on_sigterm() -> None:
        logger.info("worker %s received SIGTERM: stopping (draining in-flight tasks)", worker_id)
        stop()

    if installed:
        try:
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        except (NotImplementedError, RuntimeError, ValueError):  # no signal support on this loop
            installed = False
    try:
        yield installed
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGTERM)
