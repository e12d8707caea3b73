"""The pure parts of the peers benchmark: round order, the figures of each configuration, the table.

Nothing here starts a process or touches the network, so ``tests/benchmarks`` checks it directly.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

DASH = "\u2013"  # the en dash of "min-max"


def round_orders(names: Sequence[str], rounds: int) -> list[list[str]]:
    """The configurations of each round: all of them every round, the order rotated by one.

    Rotating spreads "who runs first after a quiet moment" and "who runs right after the heaviest
    configuration" over every configuration, so neither favours one of them.
    """
    count = len(names)
    if count == 0:
        return [[] for _ in range(rounds)]
    return [[names[(start + i) % count] for i in range(count)] for start in range(rounds)]


@dataclass
class Outcome:
    """What one configuration gave over the rounds: a rate per successful run, or why it failed."""

    name: str
    label: str
    rates: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add_run(self, workflows: int, elapsed: float) -> None:
        """Record one run of ``workflows`` workflows that took ``elapsed`` seconds."""
        self.rates.append(workflows / elapsed if elapsed > 0 else float("inf"))

    def add_failure(self, reason: str) -> None:
        """Record one run that could not be measured, with its one-line reason."""
        self.failures.append(one_line(reason))

    @property
    def median(self) -> float | None:
        """The median rate in workflows per second (``None`` when no run succeeded)."""
        return statistics.median(self.rates) if self.rates else None

    @property
    def spread(self) -> tuple[float, float] | None:
        """The lowest and highest rate (``None`` when no run succeeded)."""
        return (min(self.rates), max(self.rates)) if self.rates else None

    def as_json(self) -> dict[str, object]:
        """The outcome as plain JSON values (for ``--json``)."""
        spread = self.spread
        return {
            "configuration": self.name,
            "what": self.label,
            "median_workflows_per_second": _rounded(self.median),
            "min_workflows_per_second": _rounded(spread[0]) if spread else None,
            "max_workflows_per_second": _rounded(spread[1]) if spread else None,
            "runs": len(self.rates),
            "rates": [round(rate, 1) for rate in self.rates],
            "failures": self.failures,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def one_line(text: str, limit: int = 160) -> str:
    """The last meaningful line of ``text`` (an error's message), cut to ``limit`` characters."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[-1] if lines else "failed (no message)"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def format_rate(value: float) -> str:
    """A rate with one decimal below 1,000 workflows/s and none above."""
    return f"{value:.0f}" if value >= 1000 else f"{value:.1f}"


def render(outcomes: Sequence[Outcome], header: Sequence[str] = ()) -> str:
    """The one table: configuration, what it is, median workflows/s, min-max, runs (or the reason)."""
    rows: list[tuple[str, str, str, str, str]] = []
    for outcome in outcomes:
        median, spread = outcome.median, outcome.spread
        if median is None or spread is None:
            reason = outcome.failures[0] if outcome.failures else "not run"
            rows.append((outcome.name, outcome.label, "n/a", reason, "0"))
            continue
        runs = str(len(outcome.rates))
        if outcome.failures:
            runs += f" ({len(outcome.failures)} failed: {outcome.failures[0]})"
        low, high = spread
        rows.append(
            (
                outcome.name,
                outcome.label,
                format_rate(median),
                f"{format_rate(low)}{DASH}{format_rate(high)}",
                runs,
            )
        )
    titles = ("configuration", "what", "median wf/s", f"min{DASH}max", "runs")
    # A failed row's reason stands in for min-max and runs and may be long: it widens no column.
    widths = [max([len(titles[i])] + [len(row[i]) for row in rows]) for i in range(3)]
    spread_width = max([len(titles[3])] + [len(row[3]) for row in rows if row[2] != "n/a"])
    lines = list(header)

    def line(cells: tuple[str, str, str, str, str]) -> str:
        name, label, median, spread, runs = cells
        first = f"{name:<{widths[0]}}  {label:<{widths[1]}}  {median:>{widths[2]}}  "
        if median == "n/a":
            return (first + spread).rstrip()
        return f"{first}{spread:<{spread_width}}  {runs}".rstrip()

    lines.append(line(titles))
    lines.append("-" * len(line(titles)))
    lines.extend(line(row) for row in rows)
    return "\n".join(lines)
