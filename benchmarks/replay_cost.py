"""Replay cost: is replaying a run linear in its events, and what does a long run cost the worker?

Two measurements:

* ``replay``: :func:`durable_workflow.testing.replay_history` of a synthetic history of a
  workflow of sequential activities (1,000 / 10,000 / 50,000 events by default), written in the
  server's wire shape (``ActivityScheduled`` / ``ActivityStarted`` / ``ActivityCompleted`` per
  activity, Avro payloads). Prints seconds and µs per event; a linear replay keeps µs/event flat.
* ``worker``: a workflow of K sequential activities (200 / 500 / 1000 / 2000 by default) run
  through a real server (``dw server:start-dev --in-memory``, or ``--database URL``) and our
  Worker, in this process; prints the worker process's CPU per workflow and per history event,
  and the per-event ratio against the smallest K (1.0 = linear; K/K0 = quadratic). With
  ``--compare-cache`` each K runs twice, alternating, with the sticky cache off
  (``max_cached_workflows=0``) and on.

    .venv/bin/python benchmarks/replay_cost.py [replay|worker|both] [--events 1000,10000,50000]
        [--activities 200,500,1000,2000] [--rounds 3] [--compare-cache] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import datetime, timezone
from typing import Any

from _embedded import TOKEN, add_server_options, describe, embedded_server, machine, run_tag

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.protocol.history import EventType as E
from durable_workflow.testing import replay_history
from durable_workflow.testing._history import RunHistory
from durable_workflow.workflow import CompleteWorkflow, ScheduleActivity


@activity.defn(name="replay-cost-step")
async def step(value: int) -> int:
    return value + 1


@workflow.defn(name="replay-cost-sequential")
class Sequential:
    """K activities one after another; each result feeds the next."""

    def run(self, ctx: Any, count: int) -> Any:
        value = 0
        for _ in range(count):
            value = yield ctx.schedule_activity("replay-cost-step", [value])
        return value


EVENTS_PER_ACTIVITY = 3  # ActivityScheduled, ActivityStarted, ActivityCompleted


def synthetic_history(activities: int) -> list[dict[str, Any]]:
    """The history of a finished ``Sequential`` run of ``activities`` steps, as the server writes it."""
    run = RunHistory(
        workflow_type="replay-cost-sequential",
        run_id="replay-cost-run",
        workflow_id="replay-cost",
        clock=datetime(2024, 1, 1, tzinfo=timezone.utc),
    )
    run.start([activities])
    value = 0
    for _ in range(activities):
        run.record([ScheduleActivity("replay-cost-step", [value])])
        opened = run.open_steps[-1]
        run.add(E.ACTIVITY_STARTED, {"sequence": opened.sequence, "activity_type": "replay-cost-step"})
        value += 1
        run.completed(opened, value)
    run.terminal(CompleteWorkflow(value))
    return run.events


def replay_figures(event_counts: list[int], rounds: int) -> None:
    print("replay_history of a sequential-activity history (wire shape, Avro payloads)")
    print(f"{'events':>8} {'median s':>10} {'min-max s':>17} {'µs/event':>9}")
    baseline: float | None = None
    for target in event_counts:
        activities = max(1, (target - 2) // EVENTS_PER_ACTIVITY)
        events = synthetic_history(activities)
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            commands = replay_history(Sequential, events)
            samples.append(time.perf_counter() - started)
            if not (isinstance(commands[-1], CompleteWorkflow) and commands[-1].result == activities):
                raise SystemExit(f"wrong replay outcome: {commands!r}")
        median = statistics.median(samples)
        per_event = median / len(events) * 1e6
        baseline = baseline or per_event
        print(
            f"{len(events):>8} {median:>10.3f} {min(samples):>8.3f}-{max(samples):<8.3f} "
            f"{per_event:>9.1f}   (µs/event x{per_event / baseline:.2f} of the smallest)"
        )


async def _one_run(url: str, count: int, cached: int | None) -> tuple[float, int]:
    """Worker CPU seconds (this process) for one K-activity run, and the run's history length."""
    tag = run_tag()
    queue = f"replay-cost-{tag}"
    async with Client(url, token=TOKEN) as client:
        options: dict[str, Any] = {} if cached is None else {"max_cached_workflows": cached}
        worker = Worker(client, task_queue=queue, workflows=[Sequential], activities=[step], **options)
        handle = await client.start_workflow(
            workflow_type="replay-cost-sequential", task_queue=queue, workflow_id=f"rc-{tag}", input=[count]
        )
        cpu = time.process_time()
        running = asyncio.create_task(worker.run())
        result = await handle.result(timeout=3600.0, poll_interval=0.5)
        used = time.process_time() - cpu
        await worker.stop()
        await running
        if result != count:
            raise SystemExit(f"wrong result {result!r}")
        events, token = 0, None
        while True:
            page = await handle.get_history(page_size=1000, next_page_token=token)
            events += len(page.get("events") or [])
            token = page.get("next_page_token")
            if not token:
                break
    return used, events


def _supports_cache() -> bool:
    import inspect

    return "max_cached_workflows" in inspect.signature(Worker.__init__).parameters


async def worker_figures(counts: list[int], rounds: int, compare: bool, args: argparse.Namespace) -> None:
    modes: list[tuple[str, int | None]] = [("default", None)]
    if compare and _supports_cache():
        modes = [("no cache", 0), ("cache", None)]
    print(f"worker CPU of one K-sequential-activity workflow ({describe(args)}; client in-process too)")
    header = f"{'mode':>9} {'K':>6} {'events':>7} {'CPU s (median)':>15} {'min-max':>15}"
    print(f"{header} {'ms/event':>9} {'ratio':>6}")
    async with embedded_server(args) as server:
        url = server.url
        baselines: dict[str, float] = {}
        for count in counts:
            samples: dict[str, list[float]] = {name: [] for name, _ in modes}
            events = 0
            for _ in range(rounds):
                for name, cached in modes:  # alternate the modes inside each round
                    used, events = await _one_run(url, count, cached)
                    samples[name].append(used)
            for name, _ in modes:
                median = statistics.median(samples[name])
                per_event = median / max(events, 1) * 1e3
                baselines.setdefault(name, per_event)
                print(
                    f"{name:>9} {count:>6} {events:>7} {median:>15.3f} "
                    f"{min(samples[name]):>7.3f}-{max(samples[name]):<7.3f} {per_event:>9.3f} "
                    f"{per_event / baselines[name]:>6.2f}"
                )
    print("ratio = ms/event against the smallest K: ~1 is linear, ~K/K0 is quadratic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=["replay", "worker", "both"], default="both")
    parser.add_argument("--events", default="1000,10000,50000")
    parser.add_argument("--activities", default="200,500,1000,2000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare-cache", action="store_true")
    add_server_options(parser)
    args = parser.parse_args()
    print(machine())
    if args.what in ("replay", "both"):
        replay_figures([int(x) for x in args.events.split(",")], args.rounds)
    if args.what in ("worker", "both"):
        counts = [int(x) for x in args.activities.split(",")]
        asyncio.run(worker_figures(counts, args.rounds, args.compare_cache, args))


if __name__ == "__main__":
    main()
