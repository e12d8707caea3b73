"""The sticky workflow cache: a run's suspended replay kept between its workflow tasks.

After a workflow task completes, the worker keeps the run's replay engine (the workflow code
suspended at the yield it blocked on) in a bounded LRU. The run's next task then feeds the
engine only the events added since, instead of replaying the whole history: a run of N steps
costs O(N) replay work in total instead of O(N²).

Anything unexpected falls back to a full replay, which is always correct: a miss, an evicted
entry, a history that does not extend the one cached (checked on the last cached event's id
and sequence), a task that failed or whose completion was not accepted, or a continuation that
raised (non-determinism included). Update tasks and queries never touch the cache: they replay
on their own, so an update's handler never runs twice against the kept state.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..workflow._engine import ReplayEngine

DEFAULT_MAX_CACHED_WORKFLOWS = 500


def event_marker(event: Mapping[str, Any]) -> tuple[str, str]:
    """What identifies one history event: its id and its history sequence (as text)."""
    return str(event.get("id") or ""), str(event.get("sequence") or "")


def event_sequence(event: Mapping[str, Any]) -> int | None:
    """The event's history sequence (the server's counter), when it carries one."""
    value = event.get("sequence")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    return None


@dataclass
class CachedRun:
    """One run's suspended replay and what it has seen of history.

    Attributes:
        engine: The suspended replay (resume it with the events after ``length``).
        workflow_type: The run's type: a task of another type never continues it.
        length: How many history events the engine has seen.
        last: The marker of the last of them (see :func:`event_marker`).
        last_sequence: The history sequence of that event (a partial history starts after it).
    """

    engine: ReplayEngine
    workflow_type: str
    length: int
    last: tuple[str, str]
    last_sequence: int | None

    @classmethod
    def of(cls, engine: ReplayEngine, workflow_type: str) -> CachedRun | None:
        """The entry for a suspended ``engine`` (``None`` when it has nothing to resume)."""
        if not engine.suspended or not engine.events:
            return None
        last = engine.events[-1]
        return cls(engine, workflow_type, len(engine.events), event_marker(last), event_sequence(last))

    def new_events(self, history: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]] | None:
        """The events of the run's full ``history`` after the cached ones (``None``: not an extension)."""
        if len(history) < self.length or event_marker(history[self.length - 1]) != self.last:
            return None
        return history[self.length :]

    def continues(self, after_sequence: int, events: Sequence[Mapping[str, Any]]) -> bool:
        """A partial history (the events after history sequence ``after_sequence``) extends this entry."""
        if self.last_sequence is None or after_sequence != self.last_sequence:
            return False
        first = event_sequence(events[0]) if events else None
        return first is None or first == after_sequence + 1

    def close(self) -> None:
        self.engine.close()


class WorkflowCache:
    """A bounded LRU of :class:`CachedRun` by run id; thread-safe.

    A task *takes* its run's entry (removing it), so two tasks of one run can never resume the
    same engine; it *puts* it back only after its completion was accepted. ``capacity`` 0
    disables the cache.
    """

    def __init__(self, capacity: int = DEFAULT_MAX_CACHED_WORKFLOWS) -> None:
        if capacity < 0:
            raise ValueError("max_cached_workflows must be >= 0")
        self.capacity = capacity
        self._runs: OrderedDict[str, CachedRun] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def __len__(self) -> int:
        return len(self._runs)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._runs

    def take(self, run_id: str) -> CachedRun | None:
        """Remove and return the run's entry (``None`` on a miss)."""
        with self._lock:
            entry = self._runs.pop(run_id, None)
            if entry is None:
                self.misses += 1
            else:
                self.hits += 1
            return entry

    def put(self, run_id: str, entry: CachedRun) -> None:
        """Keep ``entry`` as the run's latest state, evicting the least recently used beyond capacity."""
        evicted: list[CachedRun] = []
        with self._lock:
            if not self.enabled:
                evicted.append(entry)
            else:
                previous = self._runs.pop(run_id, None)
                if previous is not None and previous is not entry:
                    evicted.append(previous)
                self._runs[run_id] = entry
                while len(self._runs) > self.capacity:
                    _, oldest = self._runs.popitem(last=False)
                    evicted.append(oldest)
                    self.evictions += 1
        for dropped in evicted:  # outside the lock: closing runs the code's finally blocks
            dropped.close()

    def drop(self, run_id: str) -> None:
        """Forget the run (closing its engine)."""
        with self._lock:
            entry = self._runs.pop(run_id, None)
        if entry is not None:
            entry.close()

    def clear(self) -> None:
        """Forget every run (the worker stops)."""
        with self._lock:
            entries = list(self._runs.values())
            self._runs.clear()
        for entry in entries:
            entry.close()
