"""Temporal: N workflows of one activity each, through ``temporal server start-dev``.

Runs in the Temporal venv (``run.py`` makes it and starts the dev server). The worker runs in
this process, beside the client, on the same event loop; the workflow runs in the SDK's default
sandbox. Workflows are started one after the other, then their results are awaited in order.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from _runner_common import check, emit, parse_args, run_tag
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker


@activity.defn(name="peer-echo")
async def echo(value: int) -> int:
    """The one activity: return the input."""
    return value


@workflow.defn(name="PeerOneActivity")
class OneActivity:
    """The workflow: one activity, its result returned."""

    @workflow.run
    async def run(self, value: int) -> int:
        return await workflow.execute_activity(echo, value, start_to_close_timeout=timedelta(seconds=60))


async def batch(client: Client, queue: str, count: int) -> list[int]:
    """Start ``count`` workflows one after the other, then collect their results in order."""
    tag = run_tag()
    handles = [
        await client.start_workflow(OneActivity.run, i, id=f"peer-{tag}-{i}", task_queue=queue)
        for i in range(count)
    ]
    return [await handle.result() for handle in handles]


async def measure(url: str, count: int, warmup: int) -> float:
    client = await Client.connect(url)
    queue = f"peer-{run_tag()}"
    async with Worker(client, task_queue=queue, workflows=[OneActivity], activities=[echo]):
        check(await batch(client, queue, warmup), warmup)
        started = time.perf_counter()
        results = await batch(client, queue, count)
        elapsed = time.perf_counter() - started
    check(results, count)
    return elapsed


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    emit(args.workflows, asyncio.run(measure(args.url, args.workflows, args.warmup)))


if __name__ == "__main__":
    main()
