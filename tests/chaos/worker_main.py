"""One chaos worker process: ``python -m tests.chaos.worker_main --server URL --worker-id ID``.

It runs the SDK ``Worker`` with the chaos workload against one server until it is killed (the
fault injector's ``kill -9``) or sent SIGTERM (the harness's orderly end). Short poll timeouts
and backoffs keep its recovery after a server restart quick.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from durable_workflow import Client, Worker
from durable_workflow.errors import TransportError

from .workload import ChaosOrder, chaos_child, chaos_step

TASK_QUEUE = "chaos"


async def serve(server: str, token: str, worker_id: str) -> None:
    """Run the worker until SIGTERM; start it again while its server cannot be reached.

    ``Worker.run`` raises when the server does not answer its first request (``cluster/info``);
    a restarted worker whose server is down at that moment would otherwise stay dead, so this
    loop plays the supervisor (systemd, Kubernetes) a real deployment has.
    """
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    while not stopping.is_set():
        try:
            await _serve_once(server, token, worker_id, stopping)
        except TransportError as exc:
            logging.getLogger("chaos.worker").warning("worker did not start (%s); again", exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=0.5)


async def _serve_once(server: str, token: str, worker_id: str, stopping: asyncio.Event) -> None:
    async with Client(server, token=token, timeout=15.0) as client:
        worker = Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=[ChaosOrder, chaos_child],
            activities=[chaos_step],
            worker_id=worker_id,
            poll_timeout=5.0,
            shutdown_timeout=3.0,
            heartbeat_interval=2.0,
            max_concurrent_activity_tasks=8,
            max_concurrent_workflow_tasks=8,
        )
        worker.poll_error_backoff = 0.2
        worker.poll_error_backoff_max = 1.0
        # Outcomes are retried a little longer than a server restart takes.
        worker.report_retry_timeout = 30.0
        running = asyncio.create_task(worker.run())
        waiting = asyncio.create_task(stopping.wait())
        await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
        await worker.stop()
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running  # re-raises a failed start (TransportError) to serve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", required=True)
    parser.add_argument("--token", default="dev-token")
    parser.add_argument("--worker-id", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(serve(args.server, args.token, args.worker_id))


if __name__ == "__main__":
    main()
