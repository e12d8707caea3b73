"""The server process's garbage-collector settings, applied once its startup has completed.

Nearly everything a request allocates is freed by reference counting; the cyclic collector
still runs every ``threshold0`` net container allocations and then walks the young objects,
and every few of those the whole heap: the imported modules, pydantic and SQLAlchemy's
structures, the prepared plans, ~150k long-lived objects that never become garbage. Measured
on ``benchmarks/server_cost.py`` (SQLite, 1000 workflows): ~670 ms of the server's 10.8 s CPU
went to collections, startup included; after startup, mostly a full collection (~300 ms)
re-walking those objects, plus ~70 young and ~7 middle ones. Tuned, the same run made 4 young
collections after startup and no full one.

So once the app has started, the objects alive then are moved to the permanent generation
(:func:`gc.freeze`, never walked again) and young collections run ten times less often. Cycles
made by requests are still collected. Only :func:`durable_workflow_server.app.serve` (the
server process) calls this: an embedding program or a test keeps its own collector settings.
"""

from __future__ import annotations

import gc
from typing import Final

#: Net container allocations between two young collections (CPython's default is 700).
YOUNG_THRESHOLD: Final = 7000


def tune_after_startup() -> None:
    """Freeze the startup heap and space young collections out (see the module docstring)."""
    gc.collect()  # what startup left as garbage must not be frozen with the rest
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
