"""The ``EngineAPI`` signal method (see docs/protocol.md)."""

from __future__ import annotations

from ..core import EngineCore
from .receiving import SignalRequest, SignalResultBody, receive_signal


class SignalCommands(EngineCore):
    """``signal_workflow``: one transaction per signal."""

    async def signal_workflow(self, namespace: str, request: SignalRequest) -> SignalResultBody:
        async with self._tx() as tx:
            return await receive_signal(tx, namespace, request)
