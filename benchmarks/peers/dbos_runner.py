"""DBOS Transact: N workflows of one step each, started directly in this process, results awaited.

Runs in the DBOS venv (``run.py`` makes it). ``--database`` is DBOS's system database: a
``sqlite:///`` file or a ``postgresql://`` URL. The workflows run in this process (DBOS is a library:
there is no server). ``--api sync`` (the default) uses plain functions and ``DBOS.start_workflow``
(DBOS runs them on its thread pool); ``--api async`` uses coroutines and
``DBOS.start_workflow_async`` (they run on this event loop). Which is faster depends on the
database, so ``run.py`` measures both.
"""

from __future__ import annotations

import asyncio
import time

from _runner_common import check, emit, parse_args
from dbos import DBOS, DBOSConfig


@DBOS.step()
def echo(value: int) -> int:
    """The one step: return the input."""
    return value


@DBOS.workflow()
def one_step(value: int) -> int:
    """The workflow: one step, its result returned."""
    return echo(value)


@DBOS.step()
async def echo_async(value: int) -> int:
    """The one step of the coroutine workflow."""
    return value


@DBOS.workflow()
async def one_step_async(value: int) -> int:
    """The coroutine workflow: one step, its result returned."""
    return await echo_async(value)


def batch(count: int) -> list[int]:
    """Start ``count`` workflows one after the other, then collect their results in order."""
    handles = [DBOS.start_workflow(one_step, i) for i in range(count)]
    return [handle.get_result() for handle in handles]


async def batch_async(count: int) -> list[int]:
    """The same with the coroutine workflow and the async handles."""
    handles = [await DBOS.start_workflow_async(one_step_async, i) for i in range(count)]
    return [await handle.get_result() for handle in handles]


def measure(count: int, warmup: int) -> float:
    """Warm up, then time ``count`` workflows with the thread-pool API."""
    check(batch(warmup), warmup)
    started = time.perf_counter()
    results = batch(count)
    elapsed = time.perf_counter() - started
    check(results, count)
    return elapsed


async def measure_async(count: int, warmup: int) -> float:
    """Warm up, then time ``count`` workflows with the coroutine API."""
    check(await batch_async(warmup), warmup)
    started = time.perf_counter()
    results = await batch_async(count)
    elapsed = time.perf_counter() - started
    check(results, count)
    return elapsed


async def launched_async(count: int, warmup: int) -> float:
    # DBOS binds async workflows to the loop it was launched on: launch inside the loop.
    DBOS.launch()
    try:
        return await measure_async(count, warmup)
    finally:
        DBOS.destroy()


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    config: DBOSConfig = {
        "name": "dw-peers-bench",
        "system_database_url": args.database,
        "log_level": "WARNING",
    }
    DBOS(config=config)
    if args.api == "async":
        elapsed = asyncio.run(launched_async(args.workflows, args.warmup))
    else:
        DBOS.launch()
        try:
            elapsed = measure(args.workflows, args.warmup)
        finally:
            DBOS.destroy()
    emit(args.workflows, elapsed)


if __name__ == "__main__":
    main()
