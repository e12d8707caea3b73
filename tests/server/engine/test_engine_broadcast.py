"""Wake-up notifications between processes: payloads out, wake-ups in (no database needed)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from durable_workflow_server.engine.broadcast import MAX_PAYLOAD_BYTES, Broadcast, WakeTargets
from durable_workflow_server.engine.transaction import Tx
from durable_workflow_server.store import Store


class NotifyingStore(Store):
    """Records ``notify`` payloads; stands in for PostgreSQL's NOTIFY."""

    notifies = True

    def __init__(self) -> None:
        super().__init__("memory://")
        self.sent: list[str] = []

    async def notify(self, payload: str) -> None:
        self.sent.append(payload)


class Recorder:
    def __init__(self) -> None:
        self.keys: list[Any] = []
        self.everything = 0
        self.pokes = 0
        self.before: list[datetime] = []

    def targets(self) -> WakeTargets:
        def notify_all() -> None:
            self.everything += 1

        def poke() -> None:
            self.pokes += 1

        return WakeTargets(self.keys.append, notify_all, poke, self.before.append)


def _tx(store: Store, **fields: Any) -> Tx:
    return Tx(conn=None, store=store, now=datetime(2026, 3, 1, tzinfo=timezone.utc), **fields)  # type: ignore[arg-type]


async def _published(broadcast: Broadcast) -> None:
    await broadcast.close()


async def test_committed_wake_ups_are_coalesced_into_one_payload() -> None:
    store, seen = NotifyingStore(), Recorder()
    broadcast = Broadcast(store, seen.targets())
    due = datetime(2026, 3, 1, 12, 0, 5, tzinfo=timezone.utc)
    broadcast.publish(_tx(store, wakes={("workflow", "default", "q1")}, history_runs={"r1"}))
    broadcast.publish(_tx(store, wakes={("activity", "default", "q1")}, timers_changed=True, due_at=due))
    broadcast.publish(_tx(store))  # nothing to announce: nothing queued
    await _published(broadcast)
    assert len(store.sent) == 1
    message = json.loads(store.sent[0])
    assert message["o"] == broadcast.origin
    assert message["w"] == [["activity", "default", "q1"], ["workflow", "default", "q1"]]
    assert message["h"] == ["r1"] and message["t"] == 1 and message["d"] == due.timestamp()

    # Another process applies it; this process ignores its own.
    theirs = Recorder()
    Broadcast(NotifyingStore(), theirs.targets()).receive(store.sent[0])
    assert theirs.keys == [("activity", "default", "q1"), ("workflow", "default", "q1"), ("history", "r1")]
    assert theirs.pokes == 1 and theirs.before == [due]
    broadcast.receive(store.sent[0])
    assert seen.keys == [] and seen.pokes == 0


async def test_oversized_payloads_become_wake_everything() -> None:
    store, seen = NotifyingStore(), Recorder()
    broadcast = Broadcast(store, seen.targets())
    broadcast.publish(_tx(store, history_runs={f"run-{i:05d}" for i in range(2000)}))
    await _published(broadcast)
    assert len(store.sent[0].encode()) <= MAX_PAYLOAD_BYTES
    other = Recorder()
    Broadcast(NotifyingStore(), other.targets()).receive(store.sent[0])
    assert other.everything == 1 and other.pokes == 1


async def test_reconnects_and_garbage_wake_everything() -> None:
    seen = Recorder()
    broadcast = Broadcast(NotifyingStore(), seen.targets())
    broadcast.receive(None)  # the listener (re)connected: notifications may have been missed
    broadcast.receive("not json")
    assert seen.everything == 2 and seen.pokes == 2 and seen.keys == []


async def test_stores_without_notifications_publish_nothing() -> None:
    class Quiet(NotifyingStore):
        notifies = False

    store = Quiet()
    broadcast = Broadcast(store, Recorder().targets())
    broadcast.publish(_tx(store, wakes={("workflow", "default", "q1")}))
    await _published(broadcast)
    assert store.sent == []


class AloneStore(NotifyingStore):
    """No other process listens, until ``others`` says so; counts how often it is asked."""

    def __init__(self) -> None:
        super().__init__()
        self.others = False
        self.asked = 0

    async def others_listening(self) -> bool:
        self.asked += 1
        return self.others


async def test_nothing_is_published_while_no_other_process_listens() -> None:
    store = AloneStore()
    broadcast = Broadcast(store, Recorder().targets())
    for queue in ("q1", "q2", "q3"):
        broadcast.publish(_tx(store, wakes={("workflow", "default", queue)}))
        await _published(broadcast)
    assert store.sent == [] and store.asked == 1  # the answer is trusted for PEER_CHECK_SECONDS
    # Another process's notification (its hello, here) means someone listens: publish again.
    broadcast.receive(json.dumps({"o": "another process"}))
    broadcast.publish(_tx(store, wakes={("workflow", "default", "q4")}))
    await _published(broadcast)
    assert [json.loads(sent)["w"] for sent in store.sent] == [[["workflow", "default", "q4"]]]


async def test_a_connected_listener_says_hello_even_when_alone() -> None:
    store, seen = AloneStore(), Recorder()
    broadcast = Broadcast(store, seen.targets())
    broadcast.receive(None)  # the listener (re)connected
    await _published(broadcast)
    assert [json.loads(sent) for sent in store.sent] == [{"o": broadcast.origin}]
    assert seen.everything == 1
    # The others apply a hello as nothing but "this process listens".
    theirs = Recorder()
    Broadcast(NotifyingStore(), theirs.targets()).receive(store.sent[0])
    assert theirs.keys == [] and theirs.everything == 0 and theirs.pokes == 0
