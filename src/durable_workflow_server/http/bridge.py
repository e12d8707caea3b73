"""The webhook bridge (control-plane.md §8.5).

Reserved (answered 404) until served; see issue 8.
"""

from __future__ import annotations

from durable_workflow.protocol import routes

from .routing import Operation

OPERATIONS: list[Operation] = [
    Operation("POST", routes.BRIDGE_WEBHOOK, "send_webhook_bridge_event"),
]
