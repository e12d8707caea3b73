"""``send_webhook_bridge_event``: 200, 202 and 422 outcome bodies are answers; anything else raises."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from durable_workflow import Client, Forbidden, ServerError
from durable_workflow.client import BridgeAdapterOutcome

OUTCOME = {"schema": "durable-workflow.v2.bridge-adapter-outcome.contract", "version": 1, "adapter": "stripe"}
HEADERS = {"X-Durable-Workflow-Control-Plane-Version": "2"}


async def send(status: int, body: Any, **kwargs: Any) -> BridgeAdapterOutcome:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body, headers=HEADERS))
    async with Client("http://dw.test", token="t", transport=transport) as client:
        return await client.send_webhook_bridge_event(
            "stripe",
            action="start_workflow",
            target={"workflow_type": "orders"},
            idempotency_key="evt-1",
            **kwargs,
        )


async def test_accepted_duplicate_and_rejected_are_answers() -> None:
    accepted = await send(202, {**OUTCOME, "accepted": True, "outcome": "accepted", "run_id": "r1"})
    assert accepted.accepted and accepted.outcome == "accepted" and accepted.status_code == 202
    assert accepted.run_id == "r1" and accepted.schema == OUTCOME["schema"] and accepted.version == 1

    duplicate = await send(
        200, {**OUTCOME, "accepted": False, "outcome": "duplicate", "reason": "duplicate_start"}
    )
    assert duplicate.duplicate and not duplicate.accepted and duplicate.reason == "duplicate_start"

    body = {**OUTCOME, "accepted": False, "outcome": "rejected", "reason": "malformed_payload"}
    rejected = await send(
        422, {**body, "errors": {"target.workflow_type": ["The target workflow type field is required."]}}
    )
    assert rejected.rejected and rejected.status_code == 422 and rejected.reason == "malformed_payload"
    assert rejected.errors == {"target.workflow_type": ["The target workflow type field is required."]}


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, {"reason": "forbidden", "message": "no"}, Forbidden),
        (422, {"reason": "validation_failed", "message": "not an outcome"}, ServerError),
        (409, {**OUTCOME, "accepted": False, "outcome": "rejected"}, ServerError),
    ],
)
async def test_other_answers_raise(status: int, body: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        await send(status, body)
