"""The load: chaos workflows started, signalled and updated through whichever server answers.

Clients make one attempt per request (no SDK transport retries), so every retry is the driver's
own and it knows which requests were ambiguous (the server died between commit and answer):
- a start is retried with ``duplicate_policy="use-existing"``, which answers the run it made;
- a signal carries a ``request_id`` and targets the first run, so the server de-duplicates it;
- an update's ``request_id`` is not a de-duplication key (protocol.md), so before re-sending
  the driver reads the run's history for an ``UpdateAccepted`` with it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TypeVar

from durable_workflow import Client
from durable_workflow.errors import ServerError, TransportError
from durable_workflow.retry_policy import TransportRetryPolicy

from .worker_main import TASK_QUEUE
from .workload import MODES, ORDER, SIGNAL, UPDATE, Spec, update_note

T = TypeVar("T")
ONE_ATTEMPT = TransportRetryPolicy(max_attempts=1)


class Unreachable(Exception):
    """No server answered a request within the driver's patience."""


@dataclass
class Planned:
    """One workflow of the load and the run id its start answered."""

    spec: Spec
    run_id: str = ""
    sent_signals: int = 0
    update_sent: bool = False
    errors: list[str] = field(default_factory=list)
    seconds: float | None = None  # from the start request until the driver saw it closed


@dataclass
class DriverStats:
    """Requests the driver had to repeat, by cause."""

    transport_failures: int = 0
    server_errors: int = 0
    server_error_samples: list[str] = field(default_factory=list)
    update_resends_avoided: int = 0


def plan(rng: random.Random, index: int, prefix: str) -> Spec:
    """A workflow's features, drawn from the seeded RNG."""
    modes = [rng.choice(MODES) for _ in range(rng.randint(2, 4))]
    return Spec(
        id=f"{prefix}-{index:05d}",
        gen=0,
        modes=modes,
        timer=rng.randint(1, 3),
        signals=rng.randint(0, 3),
        update=rng.random() < 0.6,
        child=rng.random() < 0.5,
        carried=None,
    )


class Driver:
    """Sends the load's requests to random live servers, retrying across them."""

    def __init__(self, urls: list[str], token: str, rng: random.Random, patience: float = 120.0) -> None:
        self.urls = urls
        self.token = token
        self.rng = rng
        self.patience = patience
        self.stats = DriverStats()
        self._stack = AsyncExitStack()
        self._clients: dict[str, Client] = {}

    async def __aenter__(self) -> Driver:
        for url in self.urls:
            client = Client(url, token=self.token, timeout=30.0, retry_policy=ONE_ATTEMPT)
            self._clients[url] = await self._stack.enter_async_context(client)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def call(self, what: str, fn: Callable[[Client], Awaitable[T]]) -> T:
        """``fn`` against a random server until one answers (not 5xx), for ``patience`` seconds."""
        deadline = time.monotonic() + self.patience
        while True:
            client = self._clients[self.rng.choice(self.urls)]
            try:
                return await fn(client)
            except TransportError:
                self.stats.transport_failures += 1
            except ServerError as exc:
                if exc.status_code is None or exc.status_code < 500:
                    raise
                self.stats.server_errors += 1
                if len(self.stats.server_error_samples) < 10:
                    self.stats.server_error_samples.append(f"{what}: {exc.status_code} {exc}"[:300])
            if time.monotonic() > deadline:
                raise Unreachable(f"{what}: no server answered within {self.patience}s")
            await asyncio.sleep(0.3)

    async def start(self, planned: Planned) -> None:
        spec = planned.spec

        async def start(client: Client) -> str:
            handle = await client.start_workflow(
                workflow_type=ORDER,
                task_queue=TASK_QUEUE,
                workflow_id=spec["id"],
                input=[dict(spec)],
                duplicate_policy="use-existing",
            )
            return handle.run_id or ""

        planned.run_id = await self.call(f"start {spec['id']}", start)

    async def signal(self, planned: Planned, value: int) -> None:
        wid = planned.spec["id"]

        async def send(client: Client) -> None:
            await client.signal_workflow(
                wid, SIGNAL, [value], request_id=f"{wid}:{SIGNAL}:{value}", run_id=planned.run_id
            )

        await self.call(f"signal {wid} {value}", send)
        planned.sent_signals += 1

    async def update(self, planned: Planned) -> None:
        wid = planned.spec["id"]
        request_id = f"{wid}:update"
        first = True

        async def send(client: Client) -> None:
            nonlocal first
            if not first and await self._update_recorded(client, planned, request_id):
                self.stats.update_resends_avoided += 1
                return
            first = False
            await client.update_workflow(
                wid,
                UPDATE,
                [update_note(wid)],
                wait_for="completed",
                wait_timeout_seconds=5,
                request_id=request_id,
                run_id=planned.run_id,
            )

        await self.call(f"update {wid}", send)
        planned.update_sent = True

    async def _update_recorded(self, client: Client, planned: Planned, request_id: str) -> bool:
        token: str | None = None
        while True:
            page = await client.get_history(planned.spec["id"], planned.run_id, next_page_token=token)
            for event in page["events"]:
                if (
                    event["event_type"] == "UpdateAccepted"
                    and event["payload"].get("request_id") == request_id
                ):
                    return True
            token = page.get("next_page_token")
            if not token:
                return False

    async def drive(self, planned: Planned) -> None:
        """Start one workflow, then send its signals and its update at random moments."""
        try:
            await self.start(planned)
            for value in range(planned.spec["signals"]):
                await asyncio.sleep(self.rng.uniform(0.0, 2.0))
                await self.signal(planned, value)
            if planned.spec["update"]:
                await asyncio.sleep(self.rng.uniform(0.0, 2.0))
                await self.update(planned)
        except Exception as exc:  # recorded; the checker reports the workflow as not completed
            planned.errors.append(f"{type(exc).__name__}: {exc}"[:500])

    async def closed(self, workflow_id: str) -> bool:
        """True when the workflow's latest run is closed and did not continue as new."""

        async def describe(client: Client) -> bool:
            execution = await client.describe_workflow(workflow_id)
            return execution.status in {"completed", "failed", "cancelled", "terminated"} and (
                execution.closed_reason != "continued"
            )

        return await self.call(f"describe {workflow_id}", describe)
