"""SIGTERM: parked long polls answer an empty result at once, in-flight requests finish, exit 0.

One real ``dw server:start-dev`` process with parked raw long polls (workflow, activity and
query task polls) gets SIGTERM; and, in a thread (where the shutdown is started as SIGTERM
starts it), a request whose body is still arriving when the shutdown begins is answered.
Timings are printed, never asserted; the bounds are generous.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest

from durable_workflow.protocol import versions
from durable_workflow_server import Settings
from tests.helpers.http_helpers import TOKEN, FakeEngine
from tests.helpers.limited_server import limited_serving, read_until_closed
from tests.helpers.server_process import DW, ServerProcess, free_port

pytestmark = pytest.mark.smoke

BOUND = 15.0  # generous: the exit is expected well within a second when idle
POLLS = ("workflow-tasks", "activity-tasks", "query-tasks")
WORKER = {
    "Authorization": f"Bearer {TOKEN}",
    versions.WORKER_PROTOCOL_HEADER: versions.WORKER_PROTOCOL_VERSION,
}


def wait_for(condition: Any, what: str, bound: float = 30.0) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.02)


def parked_polls(base: str) -> int:
    page = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5.0).text
    for line in page.splitlines():
        if line.startswith("durable_workflow_server_long_polls_waiting "):
            return int(float(line.split()[-1]))
    return 0


def test_sigterm_answers_parked_polls_with_an_empty_result_and_exits_0(tmp_path: Any) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        DW_AUTH_TOKEN=TOKEN,
        DW_WORKER_POLL_TIMEOUT="120",  # parked polls would otherwise hold the shutdown
        DW_QUERY_TASK_POLL_TIMEOUT="120",
    )
    args = [str(DW), "server:start-dev", "--in-memory", "--port", str(port)]
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answers: dict[str, httpx.Response | BaseException] = {}
    try:

        def ready() -> bool:
            assert process.poll() is None, "the server exited early"
            try:
                return httpx.get(f"{base}/api/ready", timeout=1.0).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, "the server is ready")
        registration = {"worker_id": "w1", "task_queue": "q", "runtime": "python"}
        registration |= {"supported_workflow_types": ["greeter"], "supported_activity_types": ["greet"]}
        assert httpx.post(f"{base}/api/worker/register", json=registration, headers=WORKER).status_code == 201

        def poll(kind: str) -> None:
            try:
                answers[kind] = httpx.post(
                    f"{base}/api/worker/{kind}/poll",
                    json={"worker_id": "w1", "task_queue": "q"},
                    headers=WORKER,
                    timeout=BOUND * 2,
                )
            except BaseException as exc:  # recorded: the assertion below names it
                answers[kind] = exc

        pollers = [threading.Thread(target=poll, args=(kind,)) for kind in POLLS]
        for poller in pollers:
            poller.start()
        wait_for(lambda: parked_polls(base) == len(POLLS), "every poll is parked")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=BOUND)
        took = time.monotonic() - started
        for poller in pollers:
            poller.join(BOUND)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    print(f"SIGTERM with {len(POLLS)} parked polls: exited {process.returncode} after {took:.2f}s")
    assert process.returncode == 0, stderr
    for kind in POLLS:
        answer = answers[kind]
        assert isinstance(answer, httpx.Response), f"{kind}: {answer!r}"
        assert answer.status_code == 200, answer.text
        assert answer.json()["task"] is None  # the body of a poll that timed out
    assert "Traceback" not in stderr and "Exception" not in stderr and "ERROR" not in stderr, stderr
    assert "Application shutdown complete" in stderr


def test_a_request_in_flight_when_the_shutdown_begins_is_answered() -> None:
    engine = FakeEngine()
    settings = Settings(auth_token=TOKEN, database_url="sqlite:///unused.sqlite3", shutdown_timeout=BOUND)
    with limited_serving(settings, engine=engine) as served:
        body = b'{"workflow_type": "greeter", "workflow_id": "wf-1", "input": ["world"]}'
        head = (
            "POST /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {TOKEN}\r\n{versions.CONTROL_PLANE_HEADER}: 2\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        with served.connect(timeout=BOUND) as sock:
            sock.sendall(head + body[:10])
            wait_for(lambda: served.guard.heads_read == 1, "the request head was read")
            served.stop()
            wait_for(lambda: getattr(engine, "polling_stopped", False), "the shutdown began")
            sock.sendall(body[10:])
            answer = read_until_closed(sock)  # answered, then closed: no keep-alive on shutdown
        assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]
        served.thread.join(BOUND)
        assert not served.thread.is_alive()
    assert engine.engine_calls == ["start_workflow"]


async def test_sigterm_with_an_idle_sdk_worker_connected_exits_0(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from durable_workflow import Client, Worker, activity, workflow

    @activity.defn(name="idle-activity")
    async def idle_activity() -> None:
        return None

    @workflow.defn(name="idle-workflow")
    class Idle:
        def run(self, ctx: Any) -> Any:
            yield ctx.schedule_activity("idle-activity", [])

    monkeypatch.setenv("DW_WORKER_POLL_TIMEOUT", "120")
    server = ServerProcess(free_port(), tmp_path / "idle.sqlite3", token=TOKEN).start()
    try:
        async with Client(server.url, token=TOKEN) as client:
            worker = Worker(client, task_queue="idle", workflows=[Idle], activities=[idle_activity])
            running = asyncio.create_task(worker.run())
            # the worker's workflow and activity pollers (and its query poller) are parked
            await asyncio.to_thread(
                wait_for, lambda: parked_polls(server.url) >= 2, "the worker's polls parked"
            )
            assert server.process is not None
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            returncode = await asyncio.to_thread(server.process.wait, BOUND)
            took = time.monotonic() - started
            await worker.stop()
            await asyncio.wait_for(running, timeout=BOUND)
    finally:
        server.stop()
    log = server.log.read_text()
    print(f"SIGTERM with an idle SDK worker connected: exited {returncode} after {took:.2f}s")
    assert returncode == 0, log
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log


if __name__ == "__main__":  # pragma: no cover - manual timing run
    sys.exit(pytest.main([__file__, "-s", "-q"]))
