"""Control-plane reads: describe, list filters and paging, history paging, export checksum."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from typing import Any

import pytest

from durable_workflow_server.engine.errors import DomainError, ValidationFailed
from tests.server.engine.engine_driver import NS, POLL_LONGER, WAKE_WITHIN, Driver, activity, complete, parked


async def test_describe_shape(driver: Driver) -> None:
    started = await driver.start(memo={}, search_attributes=None)
    body = await driver.engine.describe_workflow(NS, "wf-1")
    assert body["workflow_id"] == "wf-1" and body["run_id"] == started["run_id"]
    assert body["status"] == "pending" and body["status_bucket"] == "running" and body["is_terminal"] is False
    assert body["memo"] == {} and body["search_attributes"] == {}  # D16: empty maps are {}
    assert body["input"] == ["Ada"] and body["output"] is None and body["output_envelope"] is None
    assert body["input_envelope"]["codec"] == "avro"
    assert body["actions"]["can_signal"] is True and body["actions"]["can_archive"] is False
    assert body["run_number"] == 1 and body["run_count"] == 1 and body["task_queue"] == "q1"


async def test_list_filters_and_paging(driver: Driver, clock) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        clock.advance(1)
        await driver.start(
            workflow_id=f"order-{i}", workflow_type="orders" if i % 2 else "greeter", business_key=f"bk-{i}"
        )
    task = await driver.poll_wf()
    assert task is not None and task["workflow_id"] == "order-0"
    await driver.complete_wf(task, [complete("x")])

    everything = await driver.engine.list_workflows(
        NS, workflow_type=None, status=None, query=None, page_size=50, next_page_token=None
    )
    assert [w["workflow_id"] for w in everything["workflows"]] == [f"order-{i}" for i in (4, 3, 2, 1, 0)]
    assert everything["workflow_count"] == 5 and everything["next_page_token"] is None
    row = everything["workflows"][0]
    assert set(row) >= {
        "workflow_id",
        "run_id",
        "workflow_type",
        "business_key",
        "status",
        "status_bucket",
        "task_queue",
        "is_terminal",
        "started_at",
        "closed_at",
        "search_attributes",
    }

    orders = await driver.engine.list_workflows(
        NS, workflow_type="orders", status=None, query=None, page_size=50, next_page_token=None
    )
    assert [w["workflow_id"] for w in orders["workflows"]] == ["order-3", "order-1"]
    done = await driver.engine.list_workflows(
        NS, workflow_type=None, status="completed", query=None, page_size=50, next_page_token=None
    )
    assert [w["workflow_id"] for w in done["workflows"]] == ["order-0"]
    running = await driver.engine.list_workflows(
        NS, workflow_type=None, status="running", query=None, page_size=50, next_page_token=None
    )
    assert running["workflow_count"] == 4
    found = await driver.engine.list_workflows(
        NS, workflow_type=None, status=None, query="bk-2", page_size=50, next_page_token=None
    )
    assert [w["workflow_id"] for w in found["workflows"]] == ["order-2"]

    # Keyset pages: each token names the last row; the pages tile the list exactly.
    page1 = await driver.engine.list_workflows(
        NS, workflow_type=None, status=None, query=None, page_size=2, next_page_token=None
    )
    assert page1["workflow_count"] == 2 and page1["next_page_token"]
    page2 = await driver.engine.list_workflows(
        NS, workflow_type=None, status=None, query=None, page_size=2, next_page_token=page1["next_page_token"]
    )
    page3 = await driver.engine.list_workflows(
        NS, workflow_type=None, status=None, query=None, page_size=2, next_page_token=page2["next_page_token"]
    )
    ids = [w["workflow_id"] for page in (page1, page2, page3) for w in page["workflows"]]
    assert ids == [f"order-{i}" for i in (4, 3, 2, 1, 0)]
    assert page3["next_page_token"] is None
    # A run started after the first page does not shift the later ones.
    clock.advance(1)
    await driver.start(workflow_id="order-5", workflow_type="greeter")
    again = await driver.engine.list_workflows(
        NS, workflow_type=None, status=None, query=None, page_size=2, next_page_token=page1["next_page_token"]
    )
    assert again["workflows"] == page2["workflows"]
    # Tokens this server did not issue (junk, an older server's decimal offset) read as page 1.
    first = await driver.engine.list_workflows(
        NS, workflow_type=None, status=None, query=None, page_size=2, next_page_token=None
    )
    for token in ("%%%", base64.b64encode(b"4").decode()):
        junk = await driver.engine.list_workflows(
            NS, workflow_type=None, status=None, query=None, page_size=2, next_page_token=token
        )
        assert junk["workflows"] == first["workflows"]
    with pytest.raises(ValidationFailed):
        await driver.engine.list_workflows(
            NS, workflow_type=None, status="waiting", query=None, page_size=2, next_page_token=None
        )


async def test_history_paging(driver: Driver) -> None:
    started = await driver.start()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [{"type": "record_side_effect", "result": "AAQ0MgI="}, activity()])
    page = await driver.engine.history_page(
        NS, "wf-1", started["run_id"], page_size=2, next_page_token=None, wait_new_event=False
    )
    assert [e["sequence"] for e in page["events"]] == [1, 2]
    assert set(page["events"][0]) == {"id", "sequence", "event_type", "timestamp", "payload"}
    assert page["next_page_token"] == base64.b64encode(b"2").decode()
    rest = await driver.engine.history_page(
        NS,
        "wf-1",
        started["run_id"],
        page_size=100,
        next_page_token=page["next_page_token"],
        wait_new_event=False,
    )
    assert [e["event_type"] for e in rest["events"]] == ["SideEffectRecorded", "ActivityScheduled"]
    assert rest["next_page_token"] is None
    side = rest["events"][0]["payload"]
    assert side == {"sequence": 3, "result": "AAQ0MgI=", "payload_codec": "avro"}
    assert rest["events"][1]["payload"]["sequence"] == 4
    with pytest.raises(DomainError) as err:
        await driver.engine.history_page(
            NS, "wf-1", started["run_id"], page_size=10, next_page_token="??", wait_new_event=False
        )
    assert err.value.reason == "invalid_page_token"


async def test_history_wait_new_event_long_polls(make_engine: Any) -> None:
    # The follower's poll outlasts the wait below, so only the wake-up can answer it in time.
    driver = Driver(await make_engine(long_poll_timeout=POLL_LONGER))
    await driver.register()
    started = await driver.start()
    token = base64.b64encode(b"2").decode()
    waiting = asyncio.create_task(
        driver.engine.history_page(
            NS, "wf-1", started["run_id"], page_size=10, next_page_token=token, wait_new_event=True
        )
    )
    await parked(driver.engine, ("history", started["run_id"]))
    assert not waiting.done()
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [activity()])
    page = await asyncio.wait_for(waiting, WAKE_WITHIN)
    assert [e["event_type"] for e in page["events"]] == ["ActivityScheduled"]


async def test_export_bundle_and_checksum(driver: Driver) -> None:
    started = await driver.start(memo={"ünï": "cødé"})
    task = await driver.poll_wf()
    assert task is not None
    await driver.complete_wf(task, [complete("done")])
    bundle = await driver.engine.export_history(NS, "wf-1", started["run_id"])
    for section in (
        "workflow",
        "payloads",
        "history_events",
        "commands",
        "signals",
        "updates",
        "tasks",
        "activities",
        "timers",
        "failures",
        "links",
        "redaction",
        "codec_schemas",
        "payload_manifest",
    ):
        assert section in bundle
    assert bundle["schema"] == "durable-workflow.v2.history-export" and bundle["history_complete"] is True
    assert bundle["workflow"]["instance_id"] == "wf-1" and bundle["workflow"]["run_id"] == started["run_id"]
    assert [e["type"] for e in bundle["history_events"]][-1] == "WorkflowCompleted"
    integrity = bundle.pop("integrity")

    def ksort(value: object) -> object:
        if isinstance(value, dict):
            return {k: ksort(value[k]) for k in sorted(value)}
        if isinstance(value, list):
            return [ksort(v) for v in value]
        return value

    # Recompute the way an independent verifier would: from the JSON the client receives.
    received = json.loads(json.dumps(bundle, ensure_ascii=False))
    text = json.dumps(ksort(received), separators=(",", ":"), ensure_ascii=False)
    assert integrity["checksum"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert integrity["canonicalization"] == "json-recursive-ksort-v1"
    assert integrity["checksum_algorithm"] == "sha256"
