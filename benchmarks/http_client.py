"""Client CPU per request of HTTP client candidates, side by side in one run.

A bare ASGI endpoint (uvicorn, in a subprocess on 127.0.0.1) answers every small JSON POST
with a ~300-byte JSON body. Each candidate sends K sequential requests, then K requests from C
concurrent tasks, on keep-alive connections; the figures are the client process's CPU time per
request (``time.process_time`` delta / requests: the server's CPU is another process) and
requests per second. Candidates alternate over R rounds; median and min-max are printed.

Candidates (each skipped when its library is not installed):
  httpx          httpx.AsyncClient, default transport (the SDK's path before the lean one)
  httpx-aiohttp  httpx.AsyncClient over httpx_aiohttp.AiohttpTransport
  aiohttp        aiohttp.ClientSession directly
  lean           the SDK's own keep-alive sender (client/_http_pool.LeanSender)
  sdk-httpx      the whole BaseClient._request path over an httpx transport
  sdk-aiohttp    the whole BaseClient._request path over aiohttp (errors not mapped: a sketch)
  sdk-lean       the whole BaseClient._request path, default (lean) sender

    python benchmarks/http_client.py [--requests 2000] [--rounds 5] [--concurrency 4,16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

REQUEST = {"worker_id": "bench-worker", "task_queue": "default", "namespace": "default", "n": 1}
ANSWER = json.dumps(
    {
        "task": None,
        "server_capabilities": {"long_poll_timeout": 30},
        "worker_protocol": {"version": "1.1"},
        "padding": "x" * 170,
    }
).encode()

SERVER = """
import sys, uvicorn
body = sys.argv[2].encode()
headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False, http="httptools", loop="uvloop", timeout_keep_alive=30)
"""

Send = Callable[[], Awaitable[Any]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), ANSWER.decode()])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the benchmark server did not start")


async def candidates(stack: AsyncExitStack, base: str) -> dict[str, Send]:
    """Each candidate's 'send one request' coroutine function, set up on the running loop."""
    import httpx

    from durable_workflow.client import Client
    from durable_workflow.client._http_pool import LeanSender

    body = json.dumps(REQUEST, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    found: dict[str, Send] = {}

    plain = await stack.enter_async_context(httpx.AsyncClient(base_url=base))

    async def via_httpx() -> Any:
        return (await plain.post("/api/bench", content=body, headers=headers)).json()

    found["httpx"] = via_httpx

    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:
        pass
    else:
        bridged = await stack.enter_async_context(
            httpx.AsyncClient(base_url=base, transport=AiohttpTransport())
        )

        async def via_httpx_aiohttp() -> Any:
            return (await bridged.post("/api/bench", content=body, headers=headers)).json()

        found["httpx-aiohttp"] = via_httpx_aiohttp

    try:
        import aiohttp
    except ImportError:
        pass
    else:
        session = await stack.enter_async_context(aiohttp.ClientSession(base))

        async def via_aiohttp() -> Any:
            async with session.post("/api/bench", data=body, headers=headers) as response:
                return json.loads(await response.read())

        found["aiohttp"] = via_aiohttp

        class AiohttpSender:
            """The SDK's sender interface over aiohttp (benchmark only: errors are not mapped)."""

            async def send(
                self, method: str, path: str, query: Any, hdrs: Any, data: Any, timeout: Any
            ) -> Any:
                from durable_workflow.client._http import HttpResponse

                async with session.request(method, path, params=query, data=data, headers=hdrs) as response:
                    raw = await response.read()
                    return HttpResponse(
                        response.status, {k.lower(): v for k, v in response.headers.items()}, raw
                    )

            async def aclose(self) -> None:
                pass

        sdk_aiohttp = await stack.enter_async_context(Client(base))
        sdk_aiohttp._sender = AiohttpSender()

        async def via_sdk_aiohttp() -> Any:
            return await sdk_aiohttp._request("POST", "/bench", plane="worker", body=REQUEST)

        found["sdk-aiohttp"] = via_sdk_aiohttp

    lean = LeanSender(base, timeout=30)
    stack.push_async_callback(lean.aclose)

    async def via_lean() -> Any:
        return json.loads((await lean.send("POST", "/api/bench", None, headers, body, None)).body)

    found["lean"] = via_lean

    sdk_httpx = await stack.enter_async_context(Client(base, transport=httpx.AsyncHTTPTransport()))
    sdk_lean = await stack.enter_async_context(Client(base))

    async def via_sdk_httpx() -> Any:
        return await sdk_httpx._request("POST", "/bench", plane="worker", body=REQUEST)

    async def via_sdk_lean() -> Any:
        return await sdk_lean._request("POST", "/bench", plane="worker", body=REQUEST)

    found["sdk-httpx"] = via_sdk_httpx
    found["sdk-lean"] = via_sdk_lean
    return found


async def measure(send: Send, requests: int, concurrency: int) -> tuple[float, float]:
    """(client CPU ms per request, requests/s) for ``requests`` sends over ``concurrency`` tasks."""
    per_task = requests // concurrency

    async def run() -> None:
        for _ in range(per_task):
            await send()

    await asyncio.gather(*(run() for _ in range(concurrency)))  # warm: open the connections
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(run() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = per_task * concurrency
    return cpu * 1000 / done, done / wall


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per candidate and mode (K)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (R)")
    parser.add_argument("--concurrency", default="4,16", help="concurrent task counts (C), comma-separated")
    args = parser.parse_args()
    modes = [1] + [int(c) for c in args.concurrency.split(",") if c]
    proc, base = start_server()
    try:
        async with AsyncExitStack() as stack:
            sends = await candidates(stack, base)
            results: dict[tuple[str, int], list[tuple[float, float]]] = {}
            for round_no in range(args.rounds):
                order = list(sends) if round_no % 2 == 0 else list(reversed(sends))
                for name in order:
                    for c in modes:
                        results.setdefault((name, c), []).append(await measure(sends[name], args.requests, c))
                print(f"round {round_no + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait()
    print(
        f"client CPU per request and requests/s; {args.requests} requests, {args.rounds} rounds; "
        "median [min-max]"
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, asyncio default loop")
    print(f"{'candidate':<14} {'tasks':>5}  {'CPU ms/request':<24} {'requests/s':<24}")
    for (name, c), rows in results.items():
        cpu = [r[0] for r in rows]
        rate = [r[1] for r in rows]
        print(
            f"{name:<14} {c:>5}  {statistics.median(cpu):6.3f} [{min(cpu):.3f}-{max(cpu):.3f}]      "
            f"{statistics.median(rate):7.0f} [{min(rate):.0f}-{max(rate):.0f}]"
        )


if __name__ == "__main__":
    asyncio.run(main())
