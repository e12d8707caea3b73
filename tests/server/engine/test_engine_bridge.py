"""The bridge's claim on an event key: an in-flight key is a retryable refusal (503), a claim a
crashed server left behind is taken over once stale, and a rejected event gives its claim back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from durable_workflow.protocol import codec
from durable_workflow_server.engine.bridge.service import CLAIM_STALE_SECONDS
from durable_workflow_server.engine.bridge.shapes import BridgeEvent, BridgeTarget
from durable_workflow_server.engine.errors import DomainError
from durable_workflow_server.engine.service import Engine
from durable_workflow_server.http.errors import status_for_reason
from durable_workflow_server.store import tables as t
from tests.server.conftest import FakeClock
from tests.server.engine.engine_driver import NS, Driver


def event(key: str = "evt-1", **target: object) -> BridgeEvent:
    return BridgeEvent(
        adapter="stripe",
        action="start_workflow",
        idempotency_key=key,
        target=BridgeTarget(workflow_type="orders", **target),  # type: ignore[arg-type]
        input=codec.envelope([{"order": 1}]),
        target_summary={"workflow_type": "orders"},
    )


async def claims(engine: Engine) -> list[dict[str, object]]:
    async with engine._read() as tx:
        return await tx.all(sa.select(t.bridge_outcomes))


async def test_a_claim_in_flight_is_a_retryable_refusal_and_a_stale_one_is_taken_over(
    engine: Engine, clock: FakeClock
) -> None:
    # A server claimed the key and died before acting.
    async with engine._tx() as tx:
        await tx.conn.execute(
            sa.insert(t.bridge_outcomes),
            {
                "namespace": NS,
                "adapter": "stripe",
                "idempotency_key": "evt-1",
                "action": "start_workflow",
                "status": "pending",
                "claimed_at": clock(),
                "created_at": clock(),
            },
        )
    # Review M6: its outcome is not known (it may yet be rejected or fail), so a redelivery gets
    # a retryable refusal, never a final "duplicate" that would make the sender drop the event.
    with pytest.raises(DomainError) as in_flight:
        await engine.handle_bridge_event(NS, event())
    assert in_flight.value.reason == "bridge_event_in_flight" and in_flight.value.extra == {"retryable": True}
    assert status_for_reason(in_flight.value.reason) == 503
    assert (await engine.list_workflows(NS, workflow_type=None, status=None, query=None, page_size=5,
                                        next_page_token=None))["workflow_count"] == 0  # fmt: skip

    clock.advance(CLAIM_STALE_SECONDS + 1)
    taken = await engine.handle_bridge_event(NS, event())
    assert taken["outcome"] == "accepted" and taken["control_plane_outcome"] == "started_new"
    [row] = await claims(engine)
    assert row["status"] == "done" and row["run_id"] == taken["run_id"]
    assert row["claimed_at"] == clock()  # type: ignore[comparison-overlap]
    again = await engine.handle_bridge_event(NS, event())
    assert again["outcome"] == "duplicate" and again["run_id"] == taken["run_id"]


async def test_a_rejected_event_keeps_no_claim(engine: Engine) -> None:
    await Driver(engine).start(workflow_id="wf-x", workflow_type="greeter")
    bad = await engine.handle_bridge_event(NS, event(workflow_id="wf-x"))  # bound to another type
    assert bad["outcome"] == "rejected" and bad["reason"] == "validation_failed"
    assert await claims(engine) == []
    good = await engine.handle_bridge_event(NS, event())  # the key is free for a later delivery
    assert good["outcome"] == "accepted"
