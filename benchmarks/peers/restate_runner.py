"""Restate: N workflows of one durable step each, through ``restate-server``.

Runs in the Restate venv (``run.py`` makes it and starts the server). This process serves the
Python service with Hypercorn on ``--service-port`` (HTTP/2, which Restate speaks to services),
registers that deployment through the admin API (``--admin-url``), then submits each workflow
through the ingress (``--url``, ``POST /PeerBench/{key}/run/send``, one after the other) and
collects the results in order (``GET /restate/invocation/{id}/attach``).
"""

from __future__ import annotations

import asyncio
import time

import httpx
import restate
from _runner_common import check, emit, parse_args, run_tag
from hypercorn.asyncio import serve
from hypercorn.config import Config

bench = restate.Workflow("PeerBench")


async def echo(value: int) -> int:
    """The one step: return the input."""
    return value


@bench.main()
async def run(ctx: restate.WorkflowContext, value: int) -> int:
    """The workflow: one durable step (``ctx.run``), its result returned."""
    return await ctx.run("echo", echo, args=(value,))


app = restate.app(services=[bench])


async def register(admin: httpx.AsyncClient, service_port: int) -> None:
    """Register this process's service with the server (``force``: a rerun replaces it)."""
    answer = await admin.post(
        "/deployments", json={"uri": f"http://127.0.0.1:{service_port}", "force": True}, timeout=30.0
    )
    if answer.status_code >= 300:
        raise SystemExit(f"registering the deployment failed: {answer.status_code} {answer.text}")


async def batch(ingress: httpx.AsyncClient, count: int) -> list[int]:
    """Submit ``count`` workflows one after the other, then collect their results in order."""
    tag = run_tag()
    ids: list[str] = []
    for i in range(count):
        answer = await ingress.post(f"/PeerBench/{tag}-{i}/run/send", json=i)
        answer.raise_for_status()
        ids.append(answer.json()["invocationId"])
    results: list[int] = []
    for invocation in ids:
        answer = await ingress.get(f"/restate/invocation/{invocation}/attach")
        answer.raise_for_status()
        results.append(answer.json())
    return results


async def measure(url: str, admin_url: str, service_port: int, count: int, warmup: int) -> float:
    config = Config()
    config.bind = [f"127.0.0.1:{service_port}"]
    config.accesslog = None
    config.errorlog = None
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    try:
        async with (
            httpx.AsyncClient(base_url=admin_url) as admin,
            httpx.AsyncClient(base_url=url, timeout=120.0) as ingress,
        ):
            await register(admin, service_port)
            check(await batch(ingress, warmup), warmup)
            started = time.perf_counter()
            results = await batch(ingress, count)
            elapsed = time.perf_counter() - started
        check(results, count)
        return elapsed
    finally:
        stop.set()
        await serving


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    emit(
        args.workflows,
        asyncio.run(measure(args.url, args.admin_url, args.service_port, args.workflows, args.warmup)),
    )


if __name__ == "__main__":
    main()
