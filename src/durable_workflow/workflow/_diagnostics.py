"""Non-determinism errors a person can act on.

Every message names the workflow type and run, the step (1-based, in the order the code
yields them), what history recorded for it (event type, activity/child/timer name, workflow
sequence), what the code yields now, and the line of workflow code that yielded it, e.g.::

    workflow 'order-processing' (run 01J9Z...) is not deterministic at step #2:
      history recorded: ActivityScheduled 'send_email' (sequence 5)
      the code now yields: schedule_activity 'charge_card'
      at /app/workflows/orders.py:42, in run: receipt = yield ctx.schedule_activity("charge_card", [order])
    Workflow code must yield the same steps in the same order on every replay; guard the change
    with ctx.get_version(...) or deploy it under a new workflow type.
"""

from __future__ import annotations

import inspect
import linecache
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import NonDeterministicReplayError
from ._commands import Command
from ._history_compat import RecordedStep

ADVICE = (
    "Workflow code must yield the same steps in the same order on every replay; guard the change "
    "with ctx.get_version(...) or deploy it under a new workflow type."
)


@dataclass(frozen=True)
class YieldSite:
    """Where workflow code is suspended: file, line, function and the source line itself."""

    filename: str
    lineno: int
    function: str
    source: str

    def __str__(self) -> str:
        where = f"{self.filename}:{self.lineno}, in {self.function}"
        return f"{where}: {self.source}" if self.source else where


UNKNOWN_SITE = YieldSite("<unknown>", 0, "?", "")


def yield_site(gen: Any) -> YieldSite:
    """The innermost ``yield`` a generator is suspended at (follows ``yield from`` chains)."""
    while inspect.isgenerator(getattr(gen, "gi_yieldfrom", None)):
        gen = gen.gi_yieldfrom
    frame = getattr(gen, "gi_frame", None)
    if frame is None:
        return UNKNOWN_SITE
    filename = frame.f_code.co_filename
    lineno = frame.f_lineno
    source = linecache.getline(filename, lineno).strip()
    return YieldSite(filename, lineno, frame.f_code.co_name, source)


def _location(site: YieldSite | None) -> str | None:
    if site is None or site is UNKNOWN_SITE:
        return None
    return f"{site.filename}:{site.lineno}"


def _header(workflow_type: str, run_id: str, step_number: int) -> str:
    return f"workflow {workflow_type!r} (run {run_id or '?'}) is not deterministic at step #{step_number}:"


def step_mismatch(
    workflow_type: str,
    run_id: str,
    step_number: int,
    recorded: RecordedStep,
    yielded: Command,
    site: YieldSite,
) -> NonDeterministicReplayError:
    """The code yields a different step than history recorded at the same place."""
    return NonDeterministicReplayError(
        f"{_header(workflow_type, run_id, step_number)}\n"
        f"  history recorded: {recorded.describe()}\n"
        f"  the code now yields: {yielded.describe()}\n"
        f"  at {site}\n"
        f"{ADVICE}",
        workflow_type=workflow_type,
        run_id=run_id or None,
        step=step_number,
        recorded=recorded.describe(),
        yielded=yielded.describe(),
        location=_location(site),
    )


def blocked_early(
    workflow_type: str,
    run_id: str,
    step_number: int,
    recorded: RecordedStep,
    waiting_on: Sequence[Command],
    site: YieldSite,
) -> NonDeterministicReplayError:
    """The code stops at a step history shows it got past."""
    what = ", ".join(cmd.describe() for cmd in waiting_on) or "nothing"
    return NonDeterministicReplayError(
        f"{_header(workflow_type, run_id, step_number)}\n"
        f"  history recorded: {recorded.describe()}\n"
        f"  the code now waits on: {what} (not resolved in this history)\n"
        f"  at {site}\n"
        f"{ADVICE}",
        workflow_type=workflow_type,
        run_id=run_id or None,
        step=step_number,
        recorded=recorded.describe(),
        yielded=what,
        location=_location(site),
    )


def unconsumed(
    workflow_type: str, run_id: str, consumed: int, remaining: Sequence[RecordedStep], site: YieldSite | None
) -> NonDeterministicReplayError:
    """The code finished while history recorded more steps."""
    listed = "\n".join(f"    #{consumed + i + 1}: {step.describe()}" for i, step in enumerate(remaining[:5]))
    more = f"\n    ... and {len(remaining) - 5} more" if len(remaining) > 5 else ""
    last = f"\n  last yield at {site}" if site is not None and site is not UNKNOWN_SITE else ""
    return NonDeterministicReplayError(
        f"{_header(workflow_type, run_id, consumed + 1)}\n"
        f"  the code finished after {consumed} step(s), but history recorded {len(remaining)} more:\n"
        f"{listed}{more}{last}\n"
        f"{ADVICE}",
        workflow_type=workflow_type,
        run_id=run_id or None,
        step=consumed + 1,
        recorded=remaining[0].describe() if remaining else None,
        yielded="the workflow finished",
        location=_location(site),
    )


def terminal_mismatch(
    workflow_type: str, run_id: str, step_number: int, recorded: str, now: str, site: YieldSite | None
) -> NonDeterministicReplayError:
    """History recorded how the run ended; the code now ends differently (or not at all)."""
    at = f"\n  at {site}" if site is not None and site is not UNKNOWN_SITE else ""
    return NonDeterministicReplayError(
        f"{_header(workflow_type, run_id, step_number)}\n"
        f"  history recorded: {recorded}\n"
        f"  the code now: {now}{at}\n"
        f"{ADVICE}",
        workflow_type=workflow_type,
        run_id=run_id or None,
        step=step_number,
        recorded=recorded,
        yielded=now,
        location=_location(site),
    )
