"""WAL checkpoints of a SQLite file database, off the request path.

SQLite's automatic checkpoint runs inside the ``COMMIT`` that takes the write-ahead log past
``wal_autocheckpoint`` pages (1000 by default, about every seventh workflow): that commit copies
the log's pages into the database file and ``fdatasync``\\ s both files, a millisecond or more
spent on the event-loop thread while the process-wide write lock is held. So the store turns the
writer's automatic checkpoint down to a backstop (:data:`BACKSTOP_PAGES`) and every
:data:`EVERY_COMMITS` write transactions runs a ``PASSIVE`` checkpoint on a connection of its own
in a thread of its own (``sqlite3`` releases the GIL while SQLite works), so requests keep being
answered meanwhile.

Crash safety is SQLite's own either way: a checkpoint only copies committed pages from the log to
the database file, whichever connection runs it. A ``PASSIVE`` checkpoint takes no lock writers
or readers wait for; it copies what no open read transaction still needs, and the writer starts
the log over once everything was copied (as with the automatic checkpoint). The log stays
bounded: the background checkpoint keeps it near :data:`EVERY_COMMITS` transactions long, and
should it fall behind (or fail), the writer's own checkpoint at :data:`BACKSTOP_PAGES` still runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sqlite3
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Write transactions between two background checkpoints (about 17 log pages each on the
#: server's workload: some 2000 pages, 8 MiB, between checkpoints).
EVERY_COMMITS = 128
#: The writer's ``wal_autocheckpoint`` (pages): reached only when the background ones fall behind.
BACKSTOP_PAGES = 10_000


class Checkpointer:
    """Runs a ``PASSIVE`` WAL checkpoint in a background thread every :data:`EVERY_COMMITS` commits.

    ``connect`` opens the checkpoint's own connection (in the worker thread, on first use).
    :meth:`committed` is called on the event-loop thread after each write transaction commits;
    :meth:`close` waits for a checkpoint in progress and closes the connection.
    """

    __slots__ = ("_commits", "_connect", "_connection", "_executor", "_running", "every")

    def __init__(self, connect: Callable[[], sqlite3.Connection], every: int = EVERY_COMMITS) -> None:
        self._connect = connect
        self.every = every
        self._commits = 0
        self._connection: sqlite3.Connection | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._running: asyncio.Future[None] | None = None

    def committed(self) -> None:
        """One more write transaction committed: start a checkpoint if one is due and none runs."""
        self._commits += 1
        if self._commits < self.every or self._running is not None:
            return
        self._commits = 0
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(1, "dw-sqlite-checkpoint")
        running = asyncio.get_running_loop().run_in_executor(self._executor, self._checkpoint)
        running.add_done_callback(self._finished)
        self._running = running

    def _finished(self, running: asyncio.Future[None]) -> None:
        self._running = None
        if not running.cancelled() and (exc := running.exception()) is not None:
            # The writer's backstop checkpoint still bounds the log; the next one tries again.
            log.warning("background WAL checkpoint failed: %s", exc)

    def _checkpoint(self) -> None:
        connection = self._connection
        if connection is None:
            connection = self._connection = self._connect()
        try:
            # Answers (busy, log pages, pages checkpointed): whatever is left, the next one copies.
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) not in (5, 6):  # SQLITE_BUSY, _LOCKED
                raise
            # Another process's checkpoint (or recovery) holds the lock: it copies the pages.

    async def close(self) -> None:
        """Wait for a checkpoint in progress, then close the connection and the thread."""
        running, self._running = self._running, None
        if running is not None:
            try:
                await asyncio.shield(running)
            except Exception:  # already logged by ``_finished``
                pass
        executor, self._executor = self._executor, None
        connection, self._connection = self._connection, None
        if executor is not None:
            if connection is not None:
                executor.submit(connection.close).result()  # where it was used
            executor.shutdown(wait=True)
