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
or readers wait for, and copies only the frames the log held when it started. The writer starts
the log over (writes from its beginning again) only if, when its next transaction begins, every
frame has been copied. Under steady writes that never happens by itself: commits keep appending
while the checkpoint copies, so the log would grow to the backstop. So when the checkpoint ends
with frames left over (commits came meanwhile, or a reader's snapshot kept some), a short
follow-up ``PASSIVE`` checkpoint runs while the store's write lock is held (taken on the event
loop; the checkpoint itself still runs in the thread, so the loop is never blocked, and only
writers wait, for the few frames appended meanwhile). After it, the next ``BEGIN IMMEDIATE``
starts the log over. The log thus stays near :data:`EVERY_COMMITS` transactions long (plus those
committed during a checkpoint); a log that did grow (a reader holding an old snapshot keeps
frames from being copied) is cut back to :data:`JOURNAL_SIZE_LIMIT` bytes when it starts over
(the store sets ``journal_size_limit``); and should the checkpoints fail, the writer's own at
:data:`BACKSTOP_PAGES` still runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sqlite3
from collections.abc import Callable

from .errors import sqlite_busy

log = logging.getLogger(__name__)

#: Write transactions between two background checkpoints (about 17 log pages each on the
#: server's workload: some 2000 pages, 8 MiB, between checkpoints).
EVERY_COMMITS = 128
#: The writer's ``wal_autocheckpoint`` (pages): reached only when the background ones fall behind.
BACKSTOP_PAGES = 10_000
#: ``journal_size_limit`` (bytes): a log longer than this is truncated to it when it starts over.
JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024


class Checkpointer:
    """Runs a ``PASSIVE`` WAL checkpoint in a background thread every :data:`EVERY_COMMITS` commits.

    ``connect`` opens the checkpoint's own connection (in the worker thread, on first use);
    ``write_lock`` is the store's write lock, held during a follow-up checkpoint (see the module
    docstring). :meth:`committed` is called on the event-loop thread after each write transaction
    commits and never raises; :meth:`close` waits for a checkpoint in progress and closes the
    connection and the thread.
    """

    __slots__ = (
        "_commits",
        "_connect",
        "_connection",
        "_executor",
        "_running",
        "_write_lock",
        "every",
        "follow_up",
    )

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        write_lock: asyncio.Lock,
        every: int = EVERY_COMMITS,
    ) -> None:
        self._connect = connect
        self._write_lock = write_lock
        self.every = every
        #: Whether a checkpoint that left frames over is followed by one under the write lock.
        self.follow_up = True
        self._commits = 0
        self._connection: sqlite3.Connection | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._running: asyncio.Task[None] | None = None

    def committed(self) -> None:
        """One more write transaction committed: start a checkpoint if one is due and none runs.

        Never raises: it is called after the ``COMMIT``, and the write has happened whatever
        becomes of its checkpoint (the writer's backstop still bounds the log).
        """
        self._commits += 1
        if self._commits < self.every or self._running is not None:
            return
        self._commits = 0
        try:
            self._start()
        except Exception as exc:  # e.g. no event loop or executor left at interpreter shutdown
            log.warning("background WAL checkpoint not started: %s", exc)

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(1, "dw-sqlite-checkpoint")
        running = loop.create_task(self._run(loop, self._executor))
        running.add_done_callback(self._finished)
        self._running = running

    async def _run(self, loop: asyncio.AbstractEventLoop, executor: concurrent.futures.Executor) -> None:
        left = await loop.run_in_executor(executor, self._checkpoint)
        # What it reports is the log as it found it: a commit since then (``committed`` counts
        # from zero when this one started) appended frames it did not see.
        if not self.follow_up or not (left or self._commits):
            return
        # Copy those with writers held off, so the next BEGIN IMMEDIATE finds the log fully
        # copied and starts it over.
        async with self._write_lock:
            await loop.run_in_executor(executor, self._checkpoint)

    def _finished(self, running: asyncio.Task[None]) -> None:
        if self._running is running:
            self._running = None
        if not running.cancelled() and (exc := running.exception()) is not None:
            # The writer's backstop checkpoint still bounds the log; the next one tries again.
            log.warning("background WAL checkpoint failed: %s", exc)

    def _checkpoint(self) -> bool:
        """One ``PASSIVE`` checkpoint (in the worker thread): whether frames were left uncopied."""
        connection = self._connection
        if connection is None:
            connection = self._connection = self._connect()
        try:
            # fetchall: the statement is done with (reset) before the log is next written.
            ((busy, frames, copied),) = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.OperationalError as exc:
            if not sqlite_busy(exc):
                raise
            # Another process's checkpoint (or recovery) holds the lock: it copies the pages.
            return False
        # Frames in the log when it started and frames copied (-1s when it could not run).
        return not busy and frames > copied >= 0

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    async def close(self) -> None:
        """Wait for a checkpoint in progress, then close the connection and the thread.

        If cancelled while waiting, the checkpoint is abandoned: the thread closes the connection
        once the checkpoint's SQLite call returns, and is not waited for.
        """
        running, self._running = self._running, None
        executor, self._executor = self._executor, None
        finished = False
        try:
            if running is not None:
                try:
                    await asyncio.shield(running)
                except Exception:  # already logged by ``_finished``
                    pass
            finished = True
        finally:
            if not finished and running is not None:
                running.cancel()
            if executor is not None:
                # Queued behind the checkpoint, in the thread that used the connection.
                closed = executor.submit(self._close_connection)
                if finished:
                    closed.result()
                executor.shutdown(wait=finished)
