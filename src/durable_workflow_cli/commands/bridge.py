"""``dw bridge:webhook``: hand one external event to the server's webhook bridge (cli.md §3.8).

The server applies each ``(adapter, idempotency key)`` once, so the command is safe to repeat.
JSON is the bridge-adapter outcome as the server sent it. A rejected event (HTTP 422) is still
printed as its outcome, and exits 2 like any refused request.
"""

from __future__ import annotations

import click

from .. import payloads
from ..command import Invocation, command
from ..errors import ExitCode
from ..views import status

ACTIONS = ("start_workflow", "signal_workflow", "update_workflow")


@command(
    "bridge:webhook",
    summary="Send one webhook event through a bridge adapter.",
    example=(
        "dw bridge:webhook stripe --action=start_workflow --idempotency-key=evt-1 "
        '--target=\'{"workflow_type":"orders.fulfillment"}\''
    ),
)
@click.argument("adapter")
@click.option("--action", required=True, help=f"What to do: {', '.join(ACTIONS)}.")
@click.option("--idempotency-key", required=True, help="The provider's event or delivery id.")
@click.option("--target", "target_text", required=True, metavar="JSON", help="Target object (JSON).")
@click.option("--correlation", "correlation_text", metavar="JSON", help="Caller references (JSON object).")
@payloads.payload_options
def webhook(
    inv: Invocation,
    adapter: str,
    action: str,
    idempotency_key: str,
    target_text: str,
    correlation_text: str | None,
    input_text: str | None,
    input_file: str | None,
    input_encoding: str,
) -> None:
    target = payloads.json_object(target_text, "--target") or {}
    correlation = payloads.json_object(correlation_text, "--correlation")
    # The event payload is sent as parsed, not wrapped in a list (cli.md §2.6).
    _, event = payloads.value(input_text, input_file, input_encoding)
    outcome = inv.call(
        lambda client: client.send_webhook_bridge_event(
            adapter,
            action=action,
            target=target,
            idempotency_key=idempotency_key,
            input=event,
            correlation=correlation,
        )
    )
    if inv.json:
        inv.out.document(outcome.raw)
    else:
        inv.out.title("Bridge adapter outcome")
        inv.out.fields(
            [
                ("Adapter", outcome.adapter or adapter),
                ("Action", outcome.action or action),
                ("Accepted", outcome.accepted),
                ("Outcome", status(outcome.outcome)),
                ("Reason", outcome.reason),
                ("Control Plane Outcome", status(outcome.control_plane_outcome)),
                ("Idempotency Key", outcome.idempotency_key or idempotency_key),
                ("Workflow ID", outcome.workflow_id),
                ("Run ID", outcome.run_id),
                ("Command ID", outcome.raw.get("command_id")),
                ("Target", outcome.target or None),
            ]
        )
        for field_name, messages in outcome.errors.items():
            for message in messages:
                inv.out.line(f"Validation: {field_name}: {message}")
    if outcome.rejected:
        inv.ctx.exit(int(ExitCode.INVALID))


COMMANDS = (webhook,)
