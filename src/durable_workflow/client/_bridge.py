"""The webhook bridge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ServerError
from ..protocol import routes
from ._base import BaseClient

# The result classes load with the first call that returns one (``dw`` cold start).
if TYPE_CHECKING:
    from ._bridge_results import BridgeAdapterOutcome


def _is_outcome(body: Any) -> bool:
    return isinstance(body, Mapping) and isinstance(body.get("outcome"), str) and "accepted" in body


class BridgeMixin(BaseClient):
    """The webhook bridge. methods of :class:`durable_workflow.Client`."""

    async def send_webhook_bridge_event(
        self,
        adapter: str,
        *,
        action: str,
        target: Mapping[str, Any],
        idempotency_key: str,
        input: Any = None,
        correlation: Mapping[str, Any] | None = None,
    ) -> BridgeAdapterOutcome:
        """Hand one external event to the server's webhook bridge (``dw bridge:webhook``).

        The server applies each ``(adapter, idempotency_key)`` once: a redelivery answers the
        first outcome and starts or sends nothing. Safe to retry.

        Args:
            adapter: The adapter key, e.g. ``"stripe"`` (``[a-zA-Z0-9._:-]``).
            action: ``start_workflow``, ``signal_workflow`` or ``update_workflow``.
            target: For a start ``workflow_type`` (and optionally ``workflow_id``,
                ``task_queue``, ``business_key``, ``duplicate_policy`` ``use_existing`` /
                ``reject_duplicate``); for a signal ``workflow_id`` and ``signal_name``; for an
                update ``workflow_id``, ``update_name`` (and ``wait_for``,
                ``wait_timeout_seconds``).
            idempotency_key: The provider's event or delivery id (at most 255 characters).
            input: The event payload, sent as plain JSON: an object is the workflow's (or
                handler's) one argument, a list the argument list.
            correlation: Caller references echoed back (credentials such as ``token`` or
                ``signature`` are never echoed).

        Returns:
            The :class:`BridgeAdapterOutcome` of a 202 (accepted), 200 (duplicate) or 422
            (rejected) answer.

        Raises:
            Unauthorized / Forbidden / ServerError: any other answer (auth, server errors).
        """
        body: dict[str, Any] = {"action": action, "idempotency_key": idempotency_key, "target": dict(target)}
        if input is not None:
            body["input"] = input
        if correlation is not None:
            body["correlation"] = dict(correlation)
        try:
            data = await self._request_object(
                "POST",
                routes.BRIDGE_WEBHOOK,
                path_params={"adapter": adapter},
                body=body,
                operation="send_webhook_bridge_event",
            )
        except ServerError as exc:
            # A rejected event is an answer of the contract, not a failure of the call.
            if exc.status_code == 422 and _is_outcome(exc.body):
                from ._bridge_results import BridgeAdapterOutcome

                return BridgeAdapterOutcome.from_dict(exc.body, status_code=422)
            raise
        from ._bridge_results import BridgeAdapterOutcome

        return BridgeAdapterOutcome.from_dict(data, status_code=202 if data.get("accepted") is True else 200)
