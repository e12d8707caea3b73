"""Planned statements (run on the driver directly) answer exactly what SQLAlchemy answers."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from durable_workflow_server.engine.runs import rows as run_rows
from durable_workflow_server.engine.runs.waiting import WAITING_ON
from durable_workflow_server.engine.workflow_tasks import rows as task_rows
from durable_workflow_server.store import create_store
from durable_workflow_server.store import tables as t

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


async def _through_sqlalchemy(conn: Any, statement: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        dict(row) for row in (await conn.run_sync(lambda c: c.execute(statement, params).mappings().all()))
    ]


async def test_planned_reads_match_sqlalchemy_with_times_json_and_in_lists(db_url: str) -> None:
    store = create_store(db_url)
    await store.open()
    try:
        run = {
            "run_id": "r1", "workflow_id": "w1", "namespace": "default", "run_number": 1,
            "workflow_type": "greeter", "task_queue": "q1", "status": "running", "payload_codec": "avro",
            "started_at": NOW, "last_progress_at": NOW, "memo": {"k": [1, "x"]},
        }  # fmt: skip
        task = {
            "task_id": "t1", "run_id": "r1", "workflow_id": "w1", "namespace": "default",
            "task_queue": "q1", "workflow_type": "greeter", "status": "ready",
            "available_at": NOW, "attempt_count": 0,  # due exactly now: text order matters
            "created_at": NOW, "updated_at": NOW,
        }  # fmt: skip
        async with store.write() as conn:
            await conn.execute(run_rows.INSERT_RUN, run)
            await conn.execute(sa.insert(t.workflow_tasks), [task])  # an executemany of one row
            changed = await conn.execute(run_rows.UPDATE_RUN, {"b_run_id": "r1", "wait_reason": "x"})
            assert changed.rowcount == 1
        cases: list[tuple[Any, dict[str, Any]]] = [
            (run_rows.SELECT_RUN, {"b_run_id": "r1"}),
            (run_rows.CURRENT_RUN, {"b_workflow_id": "w1", "b_namespace": "default"}),
            (WAITING_ON, {"b_run_id": "r1"}),  # a UNION ALL with a literal IN list
        ]
        for types in (["greeter"], ["other", "greeter"], []):
            params = {
                "b_namespace": "default",
                "b_queue": "q1",
                "b_now": NOW,
                "b_build_key": "",
                "b_types": types,
                # the sticky rule's binds (workflow_tasks/sticky.py): free for this claimer
                "b_worker_id": "worker-1",
                "b_sticky_cutoff": NOW,
            }
            cases.append((task_rows.CANDIDATES.ready_typed, params))  # an expanding IN list
        for cm in (store.write, store.read):
            async with cm() as conn:
                for statement, params in cases:
                    assert await conn.fetch(statement, params) == await _through_sqlalchemy(
                        conn, statement, params
                    )
        async with store.read() as conn:
            (found,) = await conn.fetch(run_rows.SELECT_RUN, {"b_run_id": "r1"})
        assert found["started_at"] == NOW and found["memo"] == {"k": [1, "x"]} and found["wait_reason"] == "x"
    finally:
        await store.close()
