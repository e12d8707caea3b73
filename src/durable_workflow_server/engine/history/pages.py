"""Worker-plane history pages: the events a workflow task replays, page by page."""

from __future__ import annotations

from durable_workflow.protocol.wire import HistoryPage

from ...store.rows import RunRow
from ..transaction import Tx
from ..util import encode_token
from . import events as h
from .rows import history_rows


async def history_page(tx: Tx, run: RunRow, *, after: int, page_size: int) -> HistoryPage:
    """Worker-plane page: ``history_events``, ``total_history_events``, ``next_history_page_token``."""
    rows = await history_rows(tx, run["run_id"], after=after, limit=page_size)
    last = rows[-1]["sequence"] if rows else after
    total = int(run["last_history_sequence"])
    return {
        "history_events": [h.worker_event(r) for r in rows],
        "total_history_events": total,
        "next_history_page_token": encode_token(last) if rows and last < total else None,
    }
