"""A parked long poll is abandoned as soon as the worker hangs up (the ASGI disconnect)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgi_lifespan import LifespanManager

from durable_workflow.protocol import codec
from durable_workflow_server import Settings, create_app
from durable_workflow_server.engine.api import RegisterWorkerRequest, StartWorkflowRequest
from durable_workflow_server.engine.service import Engine
from tests.helpers.asgi import http_scope
from tests.helpers.http_helpers import TOKEN, FakeEngine


class ParkedPollEngine(FakeEngine):
    """A fake whose polls park until cancelled, so the test sees whether they get cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.cancelled = asyncio.Event()

    async def poll_workflow_task(self, namespace: str, **kwargs: Any) -> dict[str, Any] | None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return None


async def test_hang_up_cancels_the_engine_poll() -> None:
    engine = ParkedPollEngine()
    app = create_app(Settings(auth_token=TOKEN, database_url="sqlite:///unused.sqlite3"), engine=engine)
    body = json.dumps({"worker_id": "w1", "task_queue": "q"}).encode()
    hung_up = asyncio.Event()
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not messages:
            messages.append({"type": "http.request", "body": body, "more_body": False})
            return messages[-1]
        await hung_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = _scope("/api/worker/workflow-tasks/poll", body)
    async with LifespanManager(app) as manager:
        handler = asyncio.create_task(manager.app(scope, receive, send))
        await asyncio.sleep(0.05)
        assert not handler.done()  # parked
        hung_up.set()
        await asyncio.wait_for(handler, timeout=5)
    assert engine.cancelled.is_set()


# --------------------------------------------------------------------------- leased as the worker hung up


def _scope(path: str, body: bytes) -> dict[str, Any]:
    """A worker-plane POST of ``body`` to ``path``."""
    return http_scope(
        path,
        [
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {TOKEN}".encode()),
            (b"x-durable-workflow-protocol-version", b"1.1"),
            (b"content-length", str(len(body)).encode()),
        ],
    )


class HangUp:
    """An ASGI ``receive`` that delivers the body, then the disconnect once ``hang_up`` is set."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.hang_up = asyncio.Event()
        self.delivered = asyncio.Event()  # the disconnect message has been handed to the app
        self.sent: list[dict[str, Any]] = []
        self._started = False

    async def receive(self) -> dict[str, Any]:
        if not self._started:
            self._started = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.hang_up.wait()
        self.delivered.set()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def run(self, app: Any, path: str) -> None:
        async with LifespanManager(app) as manager:
            await asyncio.wait_for(manager.app(_scope(path, self.body), self.receive, self.send), timeout=5)


WORKFLOW_TASK = {"task_id": "t1", "lease_owner": "w1", "workflow_task_attempt": 3, "run_id": "r1"}
ACTIVITY_TASK = {"task_id": "a1", "lease_owner": "w1", "activity_attempt_id": "att1", "attempt_number": 1}


class AnswersAsTheWorkerHangsUp(FakeEngine):
    """Polls that lease a task in the very instant the disconnect reaches the server."""

    def __init__(self, connection: HangUp) -> None:
        super().__init__()
        self.connection = connection

    async def _answer(self, task: dict[str, Any]) -> dict[str, Any]:
        self.connection.hang_up.set()
        await self.connection.delivered.wait()
        return dict(task)

    async def poll_workflow_task(self, namespace: str, **kwargs: Any) -> dict[str, Any] | None:
        self._record("poll_workflow_task", namespace, **kwargs)
        return await self._answer(WORKFLOW_TASK)

    async def poll_activity_task(self, namespace: str, **kwargs: Any) -> dict[str, Any] | None:
        self._record("poll_activity_task", namespace, **kwargs)
        return await self._answer(ACTIVITY_TASK)


def _app(engine: FakeEngine) -> Any:
    return create_app(Settings(auth_token=TOKEN, database_url="sqlite:///unused.sqlite3"), engine=engine)  # type: ignore[arg-type]


async def test_workflow_task_leased_as_the_worker_hangs_up_is_released() -> None:
    connection = HangUp(json.dumps({"worker_id": "w1", "task_queue": "q"}).encode())
    engine = AnswersAsTheWorkerHangsUp(connection)
    await connection.run(_app(engine), "/api/worker/workflow-tasks/poll")
    assert engine.called("release_workflow_task") == [
        (("default", "t1"), {"lease_owner": "w1", "workflow_task_attempt": 3})
    ]


async def test_activity_task_leased_as_the_worker_hangs_up_is_released() -> None:
    connection = HangUp(json.dumps({"worker_id": "w1", "task_queue": "q"}).encode())
    engine = AnswersAsTheWorkerHangsUp(connection)
    await connection.run(_app(engine), "/api/worker/activity-tasks/poll")
    assert engine.called("release_activity_task") == [
        (("default", "a1"), {"activity_attempt_id": "att1", "lease_owner": "w1"})
    ]


class LeasesWhileCancelled(FakeEngine):
    """A poll that, when cancelled, still hands back the task it had just leased."""

    async def poll_workflow_task(self, namespace: str, **kwargs: Any) -> dict[str, Any] | None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            return dict(WORKFLOW_TASK)
        return None


async def test_task_produced_while_the_poll_is_cancelled_is_released() -> None:
    connection = HangUp(json.dumps({"worker_id": "w1", "task_queue": "q"}).encode())
    engine = LeasesWhileCancelled()
    connection.hang_up.set()
    await connection.run(_app(engine), "/api/worker/workflow-tasks/poll")
    assert engine.called("release_workflow_task") == [
        (("default", "t1"), {"lease_owner": "w1", "workflow_task_attempt": 3})
    ]


async def test_a_task_delivered_to_a_listening_worker_is_not_released() -> None:
    connection = HangUp(json.dumps({"worker_id": "w1", "task_queue": "q"}).encode())
    engine = FakeEngine()
    engine.results["poll_workflow_task"] = dict(WORKFLOW_TASK)
    await connection.run(_app(engine), "/api/worker/workflow-tasks/poll")
    assert engine.called("release_workflow_task") == []
    body = json.loads(
        b"".join(m.get("body", b"") for m in connection.sent if m["type"] == "http.response.body")
    )
    assert body["task"]["task_id"] == "t1"


# --------------------------------------------------------------------------- the same race, real engine


async def test_real_engine_redelivers_a_task_leased_as_the_worker_hung_up(db_url: str) -> None:
    settings = Settings(auth_token=TOKEN, database_url=db_url, long_poll_timeout=0.5)
    connection = HangUp(json.dumps({"worker_id": "w1", "task_queue": "q"}).encode())

    class AnswersAsTheWorkerHangsUpReal(Engine):
        async def poll_workflow_task(self, namespace: str, **kwargs: Any) -> dict[str, Any] | None:
            task = await super().poll_workflow_task(namespace, **kwargs)
            connection.hang_up.set()
            await connection.delivered.wait()
            return task

    engine = AnswersAsTheWorkerHangsUpReal(settings)
    app = create_app(settings, engine=engine)
    async with LifespanManager(app) as manager:
        await engine.start_workflow(
            "default", StartWorkflowRequest(workflow_type="greeter", input=codec.envelope([]), task_queue="q")
        )
        for worker_id in ("w1", "w2"):
            await engine.register_worker(
                "default", RegisterWorkerRequest(task_queue="q", runtime="python", worker_id=worker_id)
            )
        path = "/api/worker/workflow-tasks/poll"
        await asyncio.wait_for(
            manager.app(_scope(path, connection.body), connection.receive, connection.send), 5
        )
        again = await Engine.poll_workflow_task(
            engine,
            "default",
            worker_id="w2",
            task_queue="q",
            build_id=None,
            poll_request_id=None,
            history_page_size=None,
            timeout=0.05,  # far less than the 300 s lease: only a release makes this succeed
        )
    assert again is not None and again["workflow_task_attempt"] == 2 and again["lease_owner"] == "w2"


class LeasesAsTheServerShutsDown(FakeEngine):
    """A poll that leases a task in the very step its request handler is cancelled (a shutdown)."""

    def __init__(self) -> None:
        super().__init__()
        self.handler: asyncio.Future[Any] | None = None
        self.released = asyncio.Event()

    async def poll_workflow_task(self, namespace: str, **kwargs: Any) -> dict[str, Any] | None:
        assert self.handler is not None
        self.handler.cancel()
        return dict(WORKFLOW_TASK)

    async def release_workflow_task(self, namespace: str, task_id: str, **kwargs: Any) -> None:
        self._record("release_workflow_task", namespace, task_id, **kwargs)
        self.released.set()


async def test_a_task_leased_as_the_handler_is_cancelled_is_released() -> None:
    body = json.dumps({"worker_id": "w1", "task_queue": "q"}).encode()
    connection = HangUp(body)
    engine = LeasesAsTheServerShutsDown()
    async with LifespanManager(_app(engine)) as manager:
        handler = asyncio.ensure_future(
            manager.app(_scope("/api/worker/workflow-tasks/poll", body), connection.receive, connection.send)
        )
        engine.handler = handler
        await asyncio.gather(handler, return_exceptions=True)
        assert handler.cancelled()
        await asyncio.wait_for(engine.released.wait(), timeout=5)
    assert engine.called("release_workflow_task") == [
        (("default", "t1"), {"lease_owner": "w1", "workflow_task_attempt": 3})
    ]
