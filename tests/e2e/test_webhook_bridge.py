"""The webhook bridge end to end (``POST /bridge-adapters/webhook/{adapter}`` and the SDK's
``send_webhook_bridge_event``) on SQLite and PostgreSQL: each action, redeliveries (one after
another and at the same moment), rejections and bad input (nothing written), redaction,
correlation, namespace isolation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from durable_workflow import Client
from durable_workflow.client import BridgeAdapterOutcome
from tests.e2e.test_updates import QUEUE as UPDATES_QUEUE
from tests.e2e.test_updates import serving
from tests.helpers.e2e_env import TOKEN, e2e_settings, running_app, sdk_client
from tests.helpers.live_app import snapshot

SCHEMA = "durable-workflow.v2.bridge-adapter-outcome.contract"
START = {"workflow_type": "orders.fulfillment", "task_queue": "external", "business_key": "order-231"}
HEADERS = {"Authorization": f"Bearer {TOKEN}", "X-Durable-Workflow-Control-Plane-Version": "2"}


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Any]:
    async with running_app(e2e_settings(database_url, default_namespace="billing")) as started:
        yield started


@pytest.fixture
async def billing(app: Any) -> AsyncIterator[Client]:
    async with sdk_client(app, namespace="billing") as sdk:
        yield sdk


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as raw:
        yield raw


async def start_event(client: Client, key: str, **target: Any) -> BridgeAdapterOutcome:
    return await client.send_webhook_bridge_event(
        "stripe",
        action="start_workflow",
        target={**START, **target},
        idempotency_key=key,
        input={"order_id": "order-231", "amount_cents": 1299},
        correlation={"provider": "stripe", "event_type": "checkout.session.completed"},
    )


async def history_types(client: Client, workflow_id: str) -> list[str]:
    described = await client.describe_workflow(workflow_id)
    history = await client.get_history(workflow_id, described.run_id)
    return [e["event_type"] for e in history["events"]]


async def test_start_then_redelivery(client: Client) -> None:
    first = await start_event(client, "stripe-event-231")
    assert first.status_code == 202 and first.accepted and first.outcome == "accepted"
    assert first.schema == SCHEMA and first.version == 1 and first.adapter == "stripe"
    assert first.control_plane_outcome == "started_new" and first.workflow_type == "orders.fulfillment"
    assert first.workflow_id is not None and first.workflow_id.startswith("bridge-stripe-")
    assert len(first.workflow_id) == len("bridge-stripe-") + 32
    assert first.correlation == {"provider": "stripe", "event_type": "checkout.session.completed"}
    assert first.target == START  # what the caller sent, safe fields only
    described = await client.describe_workflow(first.workflow_id)
    assert described.run_id == first.run_id and described.task_queue == "external"
    assert described.input == [{"order_id": "order-231", "amount_cents": 1299}]  # the event is one argument

    again = await start_event(client, "stripe-event-231")
    assert again.status_code == 200 and again.duplicate and not again.accepted
    assert again.reason == "duplicate_start" and again.control_plane_outcome == "deduped_existing_command"
    assert (again.workflow_id, again.run_id) == (first.workflow_id, first.run_id)
    assert len(await client.list_workflow_runs(first.workflow_id)) == 1
    # Another key is another event: another workflow.
    other = await start_event(client, "stripe-event-232")
    assert other.accepted and other.workflow_id != first.workflow_id


async def test_redelivery_after_the_workflow_closed_starts_nothing(client: Client) -> None:
    first = await start_event(client, "evt-closed")
    assert first.workflow_id is not None
    await client.terminate_workflow(first.workflow_id, reason="done elsewhere")
    again = await start_event(client, "evt-closed")
    assert again.duplicate and again.run_id == first.run_id
    assert len(await client.list_workflow_runs(first.workflow_id)) == 1


async def test_start_policies_against_a_workflow_started_elsewhere(client: Client) -> None:
    await client.start_workflow(
        workflow_type="orders.fulfillment", task_queue="external", workflow_id="wf-existing"
    )
    found = await start_event(client, "evt-a", workflow_id="wf-existing")  # use_existing (the default)
    assert found.status_code == 200 and found.duplicate and found.reason == "duplicate_start"
    assert found.control_plane_outcome == "returned_existing_active"
    refused = await start_event(
        client, "evt-b", workflow_id="wf-existing", duplicate_policy="reject_duplicate"
    )
    # The reference contract: the hand-off is accepted; the start itself refused the duplicate.
    assert refused.status_code == 202 and refused.accepted
    assert refused.control_plane_outcome == "rejected_duplicate" and refused.workflow_id == "wf-existing"
    assert len(await client.list_workflow_runs("wf-existing")) == 1


async def test_signal_once_per_key(client: Client) -> None:
    missing = await client.send_webhook_bridge_event(
        "pagerduty",
        action="signal_workflow",
        target={"workflow_id": "wf-remediation-42", "signal_name": "incident_escalated"},
        idempotency_key="pagerduty-event-3003",
        input={"severity": "critical"},
    )
    assert missing.status_code == 422 and missing.rejected and missing.reason == "unknown_target"
    assert missing.workflow_id == "wf-remediation-42"

    await client.start_workflow(
        workflow_type="remediation", task_queue="ops", workflow_id="wf-remediation-42"
    )

    async def deliver() -> BridgeAdapterOutcome:
        return await client.send_webhook_bridge_event(
            "pagerduty",
            action="signal_workflow",
            target={"workflow_id": "wf-remediation-42", "signal_name": "incident_escalated"},
            idempotency_key="pagerduty-event-3003",  # the rejected key was not kept
            input={"severity": "critical"},
        )

    accepted = await deliver()
    assert accepted.status_code == 202 and accepted.control_plane_outcome == "signal_received"
    again = await deliver()
    assert again.status_code == 200 and again.control_plane_outcome == "deduped_existing_command"
    assert again.run_id == accepted.run_id and again.reason is None
    assert (await history_types(client, "wf-remediation-42")).count("SignalReceived") == 1


async def test_update_once_per_key(client: Client) -> None:
    await client.start_workflow(workflow_type="approvals", task_queue="ops", workflow_id="wf-approval")
    for attempt in range(2):
        outcome = await client.send_webhook_bridge_event(
            "github",
            action="update_workflow",
            target={"workflow_id": "wf-approval", "update_name": "approve"},
            idempotency_key="delivery-77",
            input=["alice"],
        )
        assert outcome.status_code == (202 if attempt == 0 else 200)
    assert (await history_types(client, "wf-approval")).count("UpdateAccepted") == 1


async def test_concurrent_deliveries_act_once(client: Client) -> None:
    outcomes = await asyncio.gather(*(start_event(client, "evt-race") for _ in range(6)))
    assert sorted(o.outcome for o in outcomes) == ["accepted"] + ["duplicate"] * 5
    [winner] = [o for o in outcomes if o.accepted]
    assert winner.workflow_id is not None
    assert {o.workflow_id for o in outcomes} == {winner.workflow_id}
    assert len(await client.list_workflow_runs(winner.workflow_id)) == 1

    await client.start_workflow(workflow_type="remediation", task_queue="ops", workflow_id="wf-race")
    signals = await asyncio.gather(
        *(
            client.send_webhook_bridge_event(
                "pd",
                action="signal_workflow",
                target={"workflow_id": "wf-race", "signal_name": "go"},
                idempotency_key="k",
            )
            for _ in range(6)
        )
    )
    assert sorted(o.outcome for o in signals) == ["accepted"] + ["duplicate"] * 5
    assert (await history_types(client, "wf-race")).count("SignalReceived") == 1


async def test_redaction_and_correlation(client: Client) -> None:
    outcome = await client.send_webhook_bridge_event(
        "stripe",
        action="start_workflow",
        target={**START, "api_key": "sk_live_123", "duplicate_policy": "use_existing"},
        idempotency_key="evt-secret",
        input={"order_id": "o-1"},
        correlation={
            "provider": "stripe",
            "signature": "t=1,v1=abc",
            "nested": {"Token": "x", "ok": 1},
            "x-signature": "abc",
            "api_token": "abc",
            "client_secret": "abc",
            "password": "abc",
        },
    )
    assert outcome.accepted
    assert outcome.target == {**START, "duplicate_policy": "use_existing"}  # only safe routing fields
    assert outcome.correlation == {"provider": "stripe", "nested": {"ok": 1}}
    assert "sk_live_123" not in str(outcome.raw) and "abc" not in str(outcome.raw)


BAD: list[tuple[str, str, dict[str, Any], str, set[str]]] = [
    ("missing action", "stripe", {"idempotency_key": "k", "target": START}, "malformed_payload", {"action"}),
    (
        "unknown action",
        "stripe",
        {"action": "delete_workflow", "idempotency_key": "k", "target": START},
        "unsupported_action",
        set(),
    ),
    (
        "bad adapter",
        "str%20ipe",
        {"action": "start_workflow", "idempotency_key": "k", "target": START},
        "unsupported_routing",
        set(),
    ),
    (
        "missing key",
        "stripe",
        {"action": "start_workflow", "target": START},
        "malformed_payload",
        {"idempotency_key"},
    ),
    (
        "long key",
        "stripe",
        {"action": "start_workflow", "idempotency_key": "k" * 256, "target": START},
        "malformed_payload",
        {"idempotency_key"},
    ),
    (
        "missing target",
        "stripe",
        {"action": "start_workflow", "idempotency_key": "k"},
        "malformed_payload",
        {"target"},
    ),
    (
        "no workflow type",
        "stripe",
        {"action": "start_workflow", "idempotency_key": "k", "target": {"task_queue": "q"}},
        "malformed_payload",
        {"target.workflow_type"},
    ),
    (
        "bad workflow id",
        "stripe",
        {"action": "start_workflow", "idempotency_key": "k", "target": {**START, "workflow_id": "has space"}},
        "malformed_payload",
        {"target.workflow_id"},
    ),
    (
        "bad policy",
        "stripe",
        {
            "action": "start_workflow",
            "idempotency_key": "k",
            "target": {**START, "duplicate_policy": "use-existing"},
        },
        "malformed_payload",
        {"target.duplicate_policy"},
    ),
    (
        "signal without name",
        "stripe",
        {"action": "signal_workflow", "idempotency_key": "k", "target": {"workflow_id": "wf"}},
        "malformed_payload",
        {"target.signal_name"},
    ),
    (
        "update bad wait",
        "stripe",
        {
            "action": "update_workflow",
            "idempotency_key": "k",
            "target": {
                "workflow_id": "wf",
                "update_name": "u",
                "wait_for": "never",
                "wait_timeout_seconds": 0,
            },
        },
        "malformed_payload",
        {"target.wait_for", "target.wait_timeout_seconds"},
    ),
    (
        "scalar input",
        "stripe",
        {"action": "start_workflow", "idempotency_key": "k", "target": START, "input": 5},
        "malformed_payload",
        {"input"},
    ),
    (
        "json codec",
        "stripe",
        {
            "action": "start_workflow",
            "idempotency_key": "k",
            "target": START,
            "input": {"codec": "json", "blob": "[]"},
        },
        "malformed_payload",
        {"input"},
    ),
    (
        "correlation list",
        "stripe",
        {"action": "start_workflow", "idempotency_key": "k", "target": START, "correlation": ["x"]},
        "malformed_payload",
        {"correlation"},
    ),
]


async def test_bad_input_is_rejected_and_writes_nothing(http: httpx.AsyncClient, database_url: str) -> None:
    before = await snapshot(database_url)
    for label, adapter, body, reason, fields in BAD:
        response = await http.post(f"/api/bridge-adapters/webhook/{adapter}", json=body, headers=HEADERS)
        answer = response.json()
        assert response.status_code == 422, label
        assert (
            answer["schema"] == SCHEMA and answer["outcome"] == "rejected" and answer["accepted"] is False
        ), label
        assert answer["reason"] == reason, (label, answer)
        assert set(answer.get("errors", {})) == fields, (label, answer)
        assert "control_plane" not in answer
    assert await snapshot(database_url) == before


async def test_a_rejection_echoes_only_short_text_targets(http: httpx.AsyncClient) -> None:
    # Review S2: a credential or a huge value under a safe routing name is not echoed back.
    target = {**START, "workflow_id": {"token": "sk_live_123"}, "business_key": "b" * 5000}
    body = {"action": "start_workflow", "idempotency_key": "k", "target": target}
    response = await http.post("/api/bridge-adapters/webhook/stripe", json=body, headers=HEADERS)
    answer = response.json()
    assert response.status_code == 422 and answer["outcome"] == "rejected"
    assert answer["target"] == {"workflow_type": START["workflow_type"], "task_queue": START["task_queue"]}
    assert "sk_live_123" not in response.text


async def test_engine_refusals_are_rejections(client: Client, database_url: str) -> None:
    await client.start_workflow(workflow_type="orders.fulfillment", task_queue="q", workflow_id="wf-typed")
    before = await snapshot(database_url)
    # The id is bound to another type: the start's own 422, reported as the event's rejection.
    mistyped = await start_event(client, "evt-typed", workflow_id="wf-typed", workflow_type="other.type")
    assert mistyped.status_code == 422 and mistyped.reason == "validation_failed"
    assert "workflow_type" in mistyped.errors
    assert await snapshot(database_url) == before


async def test_namespaces_are_apart(client: Client, billing: Client, database_url: str) -> None:
    ours = await start_event(client, "evt-shared")
    assert ours.accepted
    # The same key in another namespace is another event. Its derived workflow id is the same
    # (the contract's formula has no namespace) and workflow ids are unique per server, so the
    # start is refused there; nothing is kept, and a target naming its own id goes through.
    before = await snapshot(database_url)
    clash = await start_event(billing, "evt-shared")
    assert clash.rejected and clash.reason == "workflow_id_reserved_in_namespace"
    assert await snapshot(database_url) == before
    theirs = await start_event(billing, "evt-shared", workflow_id="billing-evt-shared")
    assert theirs.accepted and theirs.workflow_id == "billing-evt-shared"
    assert (await start_event(client, "evt-shared")).run_id == ours.run_id  # ours is untouched
    # A namespace cannot signal another's workflow: it does not exist there.
    await client.start_workflow(workflow_type="w", task_queue="q", workflow_id="wf-only-default")
    refused = await billing.send_webhook_bridge_event(
        "pd",
        action="signal_workflow",
        target={"workflow_id": "wf-only-default", "signal_name": "s"},
        idempotency_key="y",
    )
    assert refused.rejected and refused.reason == "unknown_target"
    assert "SignalReceived" not in await history_types(client, "wf-only-default")


async def test_cluster_info_advertises_the_contract(client: Client) -> None:
    info = await client.get_cluster_info()
    manifest = info["bridge_adapter_outcome_contract"]
    assert manifest["schema"] == SCHEMA and manifest["outcomes"]["accepted"]["http_status"] == 202
    assert manifest["boundary"]["allowed_actions"] == ["start_workflow", "signal_workflow", "update_workflow"]


async def test_update_waits_for_completion_and_a_validator_refuses(client: Client) -> None:
    await client.start_workflow(
        workflow_type="approval", task_queue=UPDATES_QUEUE, workflow_id="wf-bridge-approval"
    )
    target = {"workflow_id": "wf-bridge-approval", "update_name": "set_approval"}
    async with serving(client):
        refused = await client.send_webhook_bridge_event(
            "github", action="update_workflow", target=target, idempotency_key="d-1", input=["yes"]
        )
        assert refused.status_code == 422 and refused.reason == "update_rejected"
        done = await client.send_webhook_bridge_event(
            "github",
            action="update_workflow",
            target={**target, "wait_for": "completed", "wait_timeout_seconds": 20},
            idempotency_key="d-2",
            input=[True],
        )
        assert done.accepted and done.control_plane_outcome == "update_completed"
        result = await client.get_workflow_handle("wf-bridge-approval").result(timeout=20.0)
    assert result == {"approved": True, "notes": []}
    # The refused delivery kept nothing: delivered again, it is tried again (the run closed since).
    again = await client.send_webhook_bridge_event(
        "github", action="update_workflow", target=target, idempotency_key="d-1", input=[True]
    )
    assert again.rejected and again.reason == "run_not_active"  # the run closed meanwhile
