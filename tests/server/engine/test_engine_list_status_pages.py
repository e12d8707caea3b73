"""A status-filtered list reads one index range per status and merges them, page by page."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from durable_workflow_server.engine.search_attributes.listing import statement
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.store import tables as t
from tests.server.conftest import FakeClock
from tests.server.engine.engine_driver import NS

# Every fifth run of each kind; "failed" is the bucket failed + cancelled + terminated.
STATUSES = ["completed", "failed", "running", "cancelled", "completed", "terminated", "waiting"]
ROWS = 700


async def _runs(engine: Engine, start: datetime) -> list[tuple[str, str, str]]:
    """``ROWS`` runs of mixed statuses, some sharing a start second; (run_id, status, region)."""
    runs, values, made = [], [], []
    for i in range(ROWS):
        run_id = f"run-{i:05d}"
        status = STATUSES[i % len(STATUSES)]
        region = "eu" if i % 3 else "apac"
        started = start + timedelta(seconds=i // 4)
        runs.append(
            {"run_id": run_id, "workflow_id": f"wf-{i:05d}", "namespace": NS, "run_number": 1,
             "workflow_type": "bulk", "task_queue": "q", "status": status, "payload_codec": "avro",
             "search_attributes": {"Region": region}, "started_at": started, "last_history_sequence": 0}
        )  # fmt: skip
        values.append(
            {"run_id": run_id, "name": "Region", "ordinal": 0, "namespace": NS, "value_keyword": region}
        )
        made.append((run_id, status, region))
    async with engine._tx() as tx:
        await tx.conn.execute(sa.insert(t.workflow_runs), runs)
        await tx.conn.execute(sa.insert(t.search_attribute_values), values)
    await engine.create_search_attribute(NS, "Region", "keyword")
    return made


async def _pages(engine: Engine, status: str, query: str | None, page_size: int) -> list[list[str]]:
    pages: list[list[str]] = []
    token: str | None = None
    while True:
        page = await engine.list_workflows(
            NS, workflow_type=None, status=status, query=query, page_size=page_size, next_page_token=token
        )
        pages.append([w["run_id"] for w in page["workflows"]])
        token = page["next_page_token"]
        if token is None:
            return pages
        assert len(pages) <= ROWS


async def test_status_bucket_pages_are_complete_disjoint_and_newest_first(
    engine: Engine, clock: FakeClock
) -> None:
    made = await _runs(engine, clock())
    newest_first = sorted(made, key=lambda r: (int(r[0][-5:]) // 4, r[0]), reverse=True)
    for status, members in [
        ("failed", {"failed", "cancelled", "terminated"}),
        ("running", {"running", "waiting", "pending"}),
        ("completed", {"completed"}),
    ]:
        pages = await _pages(engine, status, None, 17)
        flat = [run for page in pages for run in page]
        assert flat == [r[0] for r in newest_first if r[1] in members]
        assert all(len(page) == 17 for page in pages[:-1])
        with_region = [run for page in await _pages(engine, status, "Region = 'apac'", 9) for run in page]
        assert with_region == [r[0] for r in newest_first if r[1] in members and r[2] == "apac"]


async def test_each_status_branch_reads_the_status_index(engine: Engine, clock: FakeClock) -> None:
    await _runs(engine, clock())
    stmt = statement([t.workflow_runs.c.namespace == NS], None, 51, statuses={"failed", "cancelled"})
    if engine.store.dialect == "sqlite":
        compiled = stmt.compile(compile_kwargs={"literal_binds": True}, dialect=sa.dialects.sqlite.dialect())
        async with engine._read() as tx:
            plan = " ".join(str(r) for r in await tx.all(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
    else:
        compiled = stmt.compile(
            compile_kwargs={"literal_binds": True}, dialect=sa.dialects.postgresql.dialect()
        )
        # 700 rows fit a few pages, where a sequential scan is the cheaper plan; with it priced
        # out (for this transaction only) the plan shows the index that serves each branch.
        async with engine._tx() as tx:
            await tx.conn.execute(sa.text("ANALYZE workflow_runs"))
        async with engine._tx() as tx:
            await tx.conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(str(r) for r in (await tx.conn.execute(sa.text(f"EXPLAIN {compiled}"))).all())
    assert "ix_workflow_runs_status_namespace_started" in plan


async def test_an_empty_status_set_matches_nothing(engine: Engine, clock: FakeClock) -> None:
    await _runs(engine, clock())
    stmt = statement([t.workflow_runs.c.namespace == NS], None, 51, statuses=set())
    async with engine._read() as tx:
        assert await tx.all(stmt) == []
