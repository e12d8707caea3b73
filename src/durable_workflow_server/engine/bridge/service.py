"""The ``Engine`` mixin implementing :class:`.api.BridgeAPI`.

One event key, one action: the key is *claimed* (a ``pending`` row, unique per namespace,
adapter and key) in its own transaction before the action runs, so of two deliveries at once
only the one that claimed it acts. A delivery that finds the claim still ``pending`` gets the
retryable refusal ``bridge_event_in_flight`` (503), never ``duplicate``: the first delivery may
yet be rejected or fail (its claim is then given back), and a final answer would make the sender
drop an event that never happened. The action is the
engine's ordinary start, signal or update. Its outcome is recorded on the claim (``done``) and
answers every later delivery; a rejected event gives its claim back so a later delivery (after
the target exists) can succeed. A claim left ``pending`` by a server that died mid-action is
taken over after :data:`CLAIM_STALE_SECONDS`; the action's own idempotency (derived workflow id,
request id) keeps that retry from acting twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy.exc import IntegrityError

from ...store.rows import BridgeOutcomeRow
from ...store.statuses import BridgeOutcomeStatus
from ..core import EngineCore
from ..errors import DomainError
from ..namespaces import rows as namespace_rows
from ..util import seconds
from . import actions, rows
from .shapes import DEDUPED, DUPLICATE_START, BridgeAdapterOutcomeBody, BridgeEvent, outcome_body

if TYPE_CHECKING:
    from ..api import EngineAPI

CLAIM_STALE_SECONDS = 300.0
BRIDGE_EVENT_IN_FLIGHT = "bridge_event_in_flight"


class BridgeCommands(EngineCore):
    """The webhook bridge: idempotent start/signal/update from an external event."""

    async def handle_bridge_event(self, namespace: str, event: BridgeEvent) -> BridgeAdapterOutcomeBody:
        seen = await self._claim(namespace, event)
        if seen is not None and seen["status"] == BridgeOutcomeStatus.PENDING:
            raise DomainError(
                BRIDGE_EVENT_IN_FLIGHT,
                "An earlier delivery of this idempotency key is still being handled and its outcome "
                "is not known yet; retry this delivery.",
                retryable=True,
            )
        if seen is not None:
            return _duplicate(event, seen)
        engine = cast("EngineAPI", self)
        act = {
            "start_workflow": actions.start,
            "signal_workflow": actions.signal,
            "update_workflow": actions.update,
        }
        try:
            answer = await act[event.action](engine, namespace, event)
        except BaseException:
            await self._settle(namespace, event, None)  # an error or a cancel: nothing to keep
            raise
        await self._settle(namespace, event, answer if answer["outcome"] != "rejected" else None)
        return answer

    def _key(self, namespace: str, event: BridgeEvent) -> dict[str, str]:
        return {"b_namespace": namespace, "b_adapter": event.adapter, "b_key": event.idempotency_key}

    async def _claim(self, namespace: str, event: BridgeEvent) -> BridgeOutcomeRow | None:
        """``None`` when this delivery claimed the key (it acts), else the row of the one that did."""
        key = self._key(namespace, event)
        for _ in range(2):
            try:
                async for txn in self._tx():
                    async with txn as tx:
                        await namespace_rows.require(tx, namespace)  # no claim left in a deleted namespace
                        row = cast(BridgeOutcomeRow | None, await tx.one(rows.OUTCOME, key))
                        if row is None:
                            await tx.conn.execute(
                                rows.CLAIM,
                                {
                                    "namespace": namespace,
                                    "adapter": event.adapter,
                                    "idempotency_key": event.idempotency_key,
                                    "action": event.action,
                                    "status": BridgeOutcomeStatus.PENDING,
                                    "workflow_id": None,
                                    "run_id": None,
                                    "outcome": None,
                                    "claimed_at": tx.now,
                                    "created_at": tx.now,
                                },
                            )
                            return None
                        if row["status"] == BridgeOutcomeStatus.PENDING:
                            stale_before = tx.now - seconds(CLAIM_STALE_SECONDS)
                            taken = await tx.conn.execute(
                                rows.TAKE_OVER, {**key, "b_stale_before": stale_before, "b_now": tx.now}
                            )
                            if taken.rowcount == 1:
                                return None
                        return row
            except IntegrityError:
                # Another delivery of the key claimed it between our read and our insert.
                continue
        async with self._read() as tx:
            return cast(BridgeOutcomeRow | None, await tx.one(rows.OUTCOME, key))

    async def _settle(
        self, namespace: str, event: BridgeEvent, answer: BridgeAdapterOutcomeBody | None
    ) -> None:
        """Record the first outcome on the claim, or (``None``) give the claim back."""
        key = self._key(namespace, event)
        async for txn in self._tx():
            async with txn as tx:
                if answer is None:
                    await tx.conn.execute(rows.RELEASE, key)
                    return
                await tx.conn.execute(
                    rows.FINISH,
                    {
                        **key,
                        "status": BridgeOutcomeStatus.DONE,
                        "workflow_id": answer.get("workflow_id"),
                        "run_id": answer.get("run_id"),
                        "outcome": dict(answer),
                    },
                )


def _duplicate(event: BridgeEvent, row: BridgeOutcomeRow) -> BridgeAdapterOutcomeBody:
    """A repeated key: the first delivery's workflow and run, nothing started or sent."""
    first = row["outcome"] or {}
    workflow_id = first.get("workflow_id") or row["workflow_id"]
    if workflow_id is None and event.action == "start_workflow":
        workflow_id = actions.start_workflow_id(event)
    elif workflow_id is None:
        workflow_id = event.target.workflow_id
    return outcome_body(
        adapter=event.adapter,
        action=event.action,
        outcome="duplicate",
        idempotency_key=event.idempotency_key,
        target=event.target_summary,
        correlation=event.correlation,
        reason=DUPLICATE_START if event.action == "start_workflow" else None,
        workflow_id=workflow_id,
        run_id=first.get("run_id") or row["run_id"],
        workflow_type=first.get("workflow_type"),
        control_plane_outcome=DEDUPED,
        message="This idempotency key was already delivered; nothing was started or sent again.",
    )
