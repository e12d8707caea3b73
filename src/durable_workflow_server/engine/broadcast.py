"""Cross-process wake-ups: tell other server processes sharing the database what just committed.

In-process wake-ups (:class:`~.waiters.Waiters`, the timer loop's pokes) only reach this
process. When the store can notify other processes (PostgreSQL ``NOTIFY``), every committed
transaction's wake keys, history runs and new due times are also published, and notifications
from other processes are turned into the same in-process wake-ups.

Publishing never delays the transaction that caused it: wake-ups are queued after commit and one
sender task per process drains the queue, so under load many transactions share one
notification. They are deliberately not sent inside the data transaction (``NOTIFY …; COMMIT``
would save a round trip): PostgreSQL holds one database-wide lock from a notifying transaction's
pre-commit to its end, WAL flush included, so every notifying commit of every server process
would queue behind the last one. A notification lost to a crash between commit and send costs a
poller one re-probe interval, never work.

Payloads are compact JSON: ``{"o": origin, "w": [[kind, namespace, queue], ...],
"h": [run_id, ...], "t": 1, "d": epoch_seconds, "n": 1}`` (``n``: namespaces were created,
changed or deleted, so cached "namespace exists" answers are dropped); ``{"o": origin, "a": 1}``
means "wake everything" (used when the keys would not fit PostgreSQL's 8000-byte payload limit).
``{"o": origin}`` alone is a hello: a process whose listener has just (re)connected announces
itself, so the others start publishing to it at once.

Nothing is published while no other process listens: a server alone on its database (the usual
deployment, and every benchmark) would otherwise pay a ``NOTIFY`` round trip, and the decoding
of its own notification coming back, for nobody. Whether another listener exists is asked of the
store (:meth:`~..store.Store.others_listening`) at most once per :data:`PEER_CHECK_SECONDS`, and
any other process's notification, its hello included, answers it at once. A process that starts
is therefore heard from before it parks its first poll (its hello goes out while it opens);
what could still be missed in the moment its hello is in flight costs a poller one re-probe
interval, like any lost notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..store import Store
from .transaction import Tx, WakeKey
from .util import new_id

log = logging.getLogger(__name__)

# PostgreSQL rejects NOTIFY payloads of 8000 bytes or more.
MAX_PAYLOAD_BYTES = 7900
# How long an answer to "does another process listen?" is trusted before it is asked again.
PEER_CHECK_SECONDS = 1.0


class WakeTargets:
    """What a received notification acts on (the engine's waiters and background loop)."""

    def __init__(
        self,
        notify: Callable[[Any], None],
        notify_all: Callable[[], None],
        poke: Callable[[], None],
        poke_before: Callable[[datetime], None],
        forget_namespaces: Callable[[], None] = lambda: None,
    ) -> None:
        self.notify = notify
        self.notify_all = notify_all
        self.poke = poke
        self.poke_before = poke_before
        self.forget_namespaces = forget_namespaces


class Broadcast:
    """Publishes this process's post-commit wake-ups and applies other processes' ones."""

    def __init__(self, store: Store, targets: WakeTargets) -> None:
        self.store = store
        self.targets = targets
        # Identifies this process's own notifications, which come back on its listener.
        self.origin = new_id()
        self._wakes: set[WakeKey] = set()
        self._history: set[str] = set()
        self._timers = False
        self._due: datetime | None = None
        self._namespaces = False
        self._sender: asyncio.Task[None] | None = None
        # Whether another process listens, as last known, and until when that is trusted.
        self._peers = True
        self._peers_known_until = 0.0
        # A hello is due (the listener has just connected).
        self._hello = False

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        if self.store.notifies:
            await self.store.listen(self.receive)
            sender = self._sender
            if sender is not None:  # the hello: out before this process serves anything
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(sender), 2.0)

    async def close(self, timeout: float = 2.0) -> None:
        """Send what is still queued (bounded), before the store closes."""
        sender, self._sender = self._sender, None
        if sender is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(sender, timeout)

    # ------------------------------------------------------------------ publishing
    def publish(self, tx: Tx) -> None:
        """Queue ``tx``'s wake-ups for other processes (call after it committed)."""
        if not self.store.notifies:
            return
        if not (
            tx.wakes or tx.history_runs or tx.timers_changed or tx.due_at is not None or tx.namespaces_changed
        ):
            return
        if not self._peers and time.monotonic() < self._peers_known_until:
            return  # nobody else listens
        self._namespaces = self._namespaces or tx.namespaces_changed
        self._wakes |= tx.wakes
        self._history |= tx.history_runs
        self._timers = self._timers or tx.timers_changed
        if tx.due_at is not None and (self._due is None or tx.due_at < self._due):
            self._due = tx.due_at
        self._start_sender()

    def _start_sender(self) -> None:
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send(), name="dw-wake-broadcast")

    def _clear(self) -> None:
        self._wakes, self._history, self._timers, self._due = set(), set(), False, None
        self._namespaces = False

    async def _anyone_listening(self) -> bool:
        """Whether another process listens (asked of the store once per PEER_CHECK_SECONDS)."""
        if time.monotonic() >= self._peers_known_until:
            try:
                self._peers = await self.store.others_listening()
            except Exception as exc:  # unknown: publish, as if someone listened
                log.debug("could not tell whether other processes listen: %s", exc)
                self._peers = True
            self._peers_known_until = time.monotonic() + PEER_CHECK_SECONDS
        return self._peers

    def _heard_from_peer(self) -> None:
        self._peers = True
        self._peers_known_until = time.monotonic() + PEER_CHECK_SECONDS

    def _take(self) -> str | None:
        if not (self._wakes or self._history or self._timers or self._due is not None or self._namespaces):
            return None
        message: dict[str, Any] = {"o": self.origin}
        if self._wakes:
            message["w"] = sorted(self._wakes)
        if self._history:
            message["h"] = sorted(self._history)
        if self._timers:
            message["t"] = 1
        if self._due is not None:
            message["d"] = self._due.timestamp()
        if self._namespaces:
            message["n"] = 1
        self._clear()
        payload = json.dumps(message, separators=(",", ":"))
        if len(payload.encode()) > MAX_PAYLOAD_BYTES:
            payload = json.dumps({"o": self.origin, "a": 1}, separators=(",", ":"))
        return payload

    async def _send(self) -> None:
        # Whatever is queued while one NOTIFY is in flight goes out together in the next one.
        while True:
            if self._hello:
                self._hello = False
                payload: str | None = json.dumps({"o": self.origin}, separators=(",", ":"))
            elif not await self._anyone_listening():
                self._clear()
                return
            else:
                payload = self._take()
            if payload is None:
                return
            try:
                await self.store.notify(payload)
            except Exception as exc:  # best effort: pollers elsewhere still re-probe
                log.warning("could not publish wake-up notification: %s", exc)

    # ------------------------------------------------------------------ receiving
    def receive(self, payload: str | None) -> None:
        """Apply a notification (``None``: some may have been missed, so wake everything)."""
        try:
            self._apply(payload)
        except Exception:  # a malformed payload must not break the listener
            log.exception("bad wake-up notification %r", payload)
            self._wake_everything()

    def _apply(self, payload: str | None) -> None:
        if payload is None:
            self._wake_everything()
            self._hello = True  # the listener (re)connected: let the others know this process
            self._peers_known_until = 0.0  # and ask again who else listens (asked without a listener)
            self._start_sender()
            return
        message = json.loads(payload)
        if message.get("o") == self.origin:
            return  # this process already woke its own waiters
        self._heard_from_peer()
        if message.get("a"):
            self._wake_everything()
            return
        if message.get("n"):
            self.targets.forget_namespaces()
        for kind, namespace, queue in message.get("w", ()):
            self.targets.notify((kind, namespace, queue))
        for run_id in message.get("h", ()):
            self.targets.notify(("history", run_id))
        if message.get("t"):
            self.targets.poke()
        due = message.get("d")
        if due is not None:
            self.targets.poke_before(datetime.fromtimestamp(float(due), tz=timezone.utc))

    def _wake_everything(self) -> None:
        self.targets.forget_namespaces()  # a missed message may have been a namespace change
        self.targets.notify_all()
        self.targets.poke()
