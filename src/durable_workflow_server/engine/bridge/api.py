"""The ``EngineAPI`` methods of this noun (see :mod:`durable_workflow_server.engine.api`)."""

from __future__ import annotations

from typing import Protocol

from .shapes import BridgeAdapterOutcomeBody, BridgeEvent


class BridgeAPI(Protocol):
    """The webhook bridge: idempotent start/signal/update from an external event."""

    async def handle_bridge_event(self, namespace: str, event: BridgeEvent) -> BridgeAdapterOutcomeBody:
        """Apply ``event`` once per (namespace, adapter, idempotency key).

        Answers the contract body with ``outcome`` ``accepted`` (the action ran), ``duplicate``
        (the key was seen: the first outcome, nothing started or sent; or a start that found the
        workflow already running) or ``rejected`` (``reason`` ``unknown_target`` or the engine's
        refusal; nothing recorded, so a later delivery may succeed). Never raises a refusal.
        """
        ...
