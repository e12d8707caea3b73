"""Two `dw server:start` processes share one PostgreSQL: a worker on one, a client on the other.

Runs when DW_TEST_POSTGRES_URL is set, which `make test` does whenever PostgreSQL answers.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from durable_workflow import Client, Worker, activity, workflow
from tests.helpers.dbmatrix import DATABASES, fresh_postgres_url
from tests.helpers.server_process import ServerProcess, free_port

pytestmark = pytest.mark.smoke


@activity.defn(name="shout")
async def shout(word: str) -> str:
    return word.upper()


@workflow.defn(name="shouter")
class Shouter:
    def run(self, ctx: Any, word: str) -> Any:
        return (yield ctx.schedule_activity("shout", [word]))


@pytest.mark.skipif("postgres" not in DATABASES, reason="needs DW_TEST_POSTGRES_URL (PostgreSQL)")
async def test_two_servers_one_database(request: pytest.FixtureRequest) -> None:
    url = fresh_postgres_url(request)
    first = ServerProcess(free_port(), None, database_url=url).start()
    second = ServerProcess(free_port(), None, database_url=url).start()
    try:
        near_client = Client(first.url, token=first.token)
        far_client = Client(second.url, token=second.token)
        async with near_client as near, far_client as far:
            worker = Worker(near, task_queue="shared", workflows=[Shouter], activities=[shout])
            running = asyncio.create_task(worker.run())
            handles = [
                await far.start_workflow(
                    workflow_type="shouter", task_queue="shared", workflow_id=f"shared-{i}", input=[f"w{i}"]
                )
                for i in range(5)
            ]
            results = [await handle.result(timeout=30.0) for handle in handles]
            # the run as seen through the other server is the same run
            described = await near.describe_workflow("shared-0")
            await worker.stop()
            await running
    finally:
        first.stop()
        second.stop()
    assert results == [f"W{i}" for i in range(5)]
    assert described.status == "completed"
