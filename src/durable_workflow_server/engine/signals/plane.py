"""The ``EngineAPI`` signal method (see docs/protocol.md)."""

from __future__ import annotations

from ..core import EngineCore
from .receiving import SignalRequest, SignalResultBody, receive_signal


class SignalCommands(EngineCore):
    """``signal_workflow``: one transaction per signal."""

    async def signal_workflow(self, namespace: str, request: SignalRequest) -> SignalResultBody:
        async for txn in self._tx():
            async with txn as tx:
                return await receive_signal(tx, namespace, request)
        raise AssertionError("unreachable: every attempt returns or raises")
