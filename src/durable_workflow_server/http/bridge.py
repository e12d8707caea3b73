"""The webhook bridge (control-plane.md §8.5): ``POST /bridge-adapters/webhook/{adapter}``.

Answers the ``BridgeAdapterOutcome`` contract body, never the error envelope, for everything
past authentication: ``202`` accepted, ``200`` duplicate, ``422`` rejected (with ``reason``).
No ``control_plane`` block. The one exception: a delivery while an earlier one of the same key is
still in flight gets the error envelope ``503 bridge_event_in_flight`` (retry it; the SDK does).
"""

from __future__ import annotations

from durable_workflow.protocol import routes

from ..engine.bridge.shapes import BridgeAdapterOutcomeBody, outcome_body, target_summary
from .models.bridge import BridgeWebhookBody, Rejected, parse_event
from .routing import Call, Operation, Reply, copy_reply, engine_call

STATUS = {"accepted": 202, "duplicate": 200, "rejected": 422}


def _rejected(call: Call[BridgeWebhookBody], refusal: Rejected) -> BridgeAdapterOutcomeBody:
    body = call.input
    key = body.idempotency_key if isinstance(body.idempotency_key, str) else None
    return outcome_body(
        adapter=call.path["adapter"],
        action=body.action if isinstance(body.action, str) else "",
        outcome="rejected",
        idempotency_key=key,
        target=target_summary(body.target),
        correlation=body.correlation if isinstance(body.correlation, dict) else None,
        reason=refusal.reason,
        message=refusal.message,
        errors=refusal.errors,
    )


async def send_webhook_bridge_event(call: Call[BridgeWebhookBody]) -> Reply:
    try:
        event = parse_event(call.path["adapter"], call.input)
    except Rejected as refusal:
        return copy_reply(_rejected(call, refusal), 422)
    answer = await engine_call(call.engine.handle_bridge_event(call.namespace, event))
    return copy_reply(answer, STATUS[answer["outcome"]])


OPERATIONS: list[Operation] = [
    Operation(
        "POST",
        routes.BRIDGE_WEBHOOK,
        "send_webhook_bridge_event",
        send_webhook_bridge_event,
        body=BridgeWebhookBody,
        summary="Start, signal or update a workflow from an external event, once per idempotency key.",
        responses=(202, 200, 503),
    ),
]
