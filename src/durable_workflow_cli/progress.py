"""Progress bars for long work (history export, paging, backfill): shown on a terminal only.

A bar goes to stderr, so it never mixes with what a script reads from stdout, and it is left
out entirely with ``--json`` / ``--output=jsonl`` and when stderr is not a terminal (a pipe, a
CI log). ``Runtime(interactive=True)`` forces it on for tests. The bar is transient: once the
work is done the line is erased and the command prints its result as usual.

Usage::

    with progress.bar(inv, "Reading history", unit="events") as bar:
        for page in pages:
            bar.advance(len(page))
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from .command import Invocation


class Tracker(Protocol):
    """What a command tells a running bar."""

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units are done."""

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        """Set the known total (``None``: unknown, a pulsing bar) or a new description."""


class _Silent:
    """The tracker of a bar that is not shown."""

    def advance(self, amount: int = 1) -> None:
        return None

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        return None


SILENT: Tracker = _Silent()
"""A tracker that shows nothing, for work that reports its progress some other way."""


class _Shown:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def advance(self, amount: int = 1) -> None:
        self._progress.update(self._task, advance=amount, refresh=True)

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        if total is not None:
            self._progress.update(self._task, total=total, refresh=True)
        if description is not None:
            self._progress.update(self._task, description=description, refresh=True)


def enabled(inv: Invocation) -> bool:
    """Whether this invocation shows progress: human output, and stderr is a terminal."""
    if inv.json:
        return False
    forced = inv.runtime.interactive
    return forced if forced is not None else sys.stderr.isatty()


@contextmanager
def bar(inv: Invocation, description: str, *, total: int | None = None, unit: str = "") -> Iterator[Tracker]:
    """A transient progress bar on stderr for the work inside the block (silent when disabled)."""
    if not enabled(inv):
        yield SILENT
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    console = Console(
        file=sys.stderr,
        force_terminal=True,
        color_system="standard" if inv.out.color else None,
        no_color=not inv.out.color,
        width=inv.runtime.width,
        highlight=False,
    )
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    if unit:
        columns.append(TextColumn(unit))
    with Progress(*columns, console=console, transient=True) as shown:
        task = shown.add_task(description, total=total)
        yield _Shown(shown, task)
