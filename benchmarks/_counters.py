"""Cost figures of a benchmark run, taken from counters rather than estimated.

A :class:`Snapshot` is read before and after the measured window; the difference, divided by the
number of workflows, gives the per-workflow figures the benchmarks print:

* client requests: the SDK's own ``durable_workflow_client_requests`` counter, recorded by an
  :class:`~durable_workflow.metrics.InMemoryMetrics` given to the ``Client`` (the ``Worker``
  records into the client's recorder, so its polls and completions count too);
* server requests: ``durable_workflow_server_requests_total`` from the server's ``GET /metrics``,
  without the benchmark's own scrapes of ``/metrics``;
* SQL statements: ``durable_workflow_server_sql_statements_total`` from ``GET /metrics`` (``n/a``
  on a server that does not export it);
* server CPU: user + system time of the server process from ``/proc/<pid>/stat`` (only for a
  server the benchmark started itself);
* client CPU: ``time.process_time()`` of the benchmark process, which runs the client and the
  worker.

The parsing and arithmetic are pure functions (tested in tests/benchmarks); only
:func:`take_snapshot` does I/O.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from durable_workflow.metrics import CLIENT_REQUESTS, InMemoryMetrics

SERVER_REQUESTS = "durable_workflow_server_requests_total"
SERVER_SQL_STATEMENTS = "durable_workflow_server_sql_statements_total"
METRICS_ROUTE = "/metrics"


@dataclass(frozen=True)
class Sample:
    """One line of a Prometheus text exposition."""

    name: str
    labels: dict[str, str]
    value: float


def _parse_labels(text: str) -> dict[str, str]:
    """``a="x",b="y\\"z"`` -> ``{"a": "x", "b": 'y"z'}`` (the 0.0.4 escapes: ``\\\\ \\" \\n``)."""
    labels: dict[str, str] = {}
    i = 0
    while i < len(text):
        eq = text.index("=", i)
        key = text[i:eq].strip().lstrip(",").strip()
        if text[eq + 1] != '"':
            raise ValueError(f"label {key!r} has no quoted value")
        j = eq + 2
        value: list[str] = []
        while text[j] != '"':
            if text[j] == "\\":
                j += 1
                value.append({"n": "\n"}.get(text[j], text[j]))
            else:
                value.append(text[j])
            j += 1
        labels[key] = "".join(value)
        i = j + 1
        while i < len(text) and text[i] in ", ":
            i += 1
    return labels


def parse_prometheus(text: str) -> list[Sample]:
    """The samples of a Prometheus text exposition (comments and blank lines skipped)."""
    samples: list[Sample] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "{" in line:
            name, _, rest = line.partition("{")
            labels_text, _, value_text = rest.rpartition("}")
            labels = _parse_labels(labels_text)
        else:
            name, _, value_text = line.partition(" ")
            labels = {}
        # A sample may carry a timestamp after its value; the value is the first field.
        samples.append(Sample(name.strip(), labels, float(value_text.split()[0])))
    return samples


def metric_total(samples: list[Sample], name: str, *, skip_route: str | None = None) -> float | None:
    """Sum of ``name`` over all its label sets (``None`` when the metric is absent).

    ``skip_route`` leaves out samples whose ``route`` label is that value (the benchmark's own
    ``/metrics`` scrapes are not work done for the workflows).
    """
    found = [s for s in samples if s.name == name]
    if not found:
        return None
    return sum(s.value for s in found if skip_route is None or s.labels.get("route") != skip_route)


def proc_cpu_seconds(stat_text: str, ticks_per_second: float) -> float:
    """User + system CPU seconds from the text of ``/proc/<pid>/stat``.

    The command name (field 2) is in parentheses and may hold spaces or ``)``, so the fields are
    counted from the last ``)``: utime and stime are fields 14 and 15 of the whole line.
    """
    after_name = stat_text.rpartition(")")[2].split()
    # after_name[0] is field 3 (state), so field n is after_name[n - 3].
    return (int(after_name[14 - 3]) + int(after_name[15 - 3])) / ticks_per_second


@dataclass(frozen=True)
class Snapshot:
    """The counters at one moment (``None``: not available for this run)."""

    client_cpu_s: float
    client_requests: float
    server_requests: float | None
    server_sql_statements: float | None
    server_cpu_s: float | None


@dataclass(frozen=True)
class Costs:
    """Per-workflow (and per-request) costs between two snapshots; ``None`` prints as ``n/a``."""

    workflows: int
    client_requests_per_workflow: float
    server_requests_per_workflow: float | None
    sql_statements_per_workflow: float | None
    server_cpu_ms_per_workflow: float | None
    client_cpu_ms_per_workflow: float
    client_cpu_ms_per_request: float | None


def _delta(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def _per(total: float | None, count: float) -> float | None:
    return None if total is None or count <= 0 else total / count


def costs(before: Snapshot, after: Snapshot, workflows: int, scrape_sql_statements: float = 0.0) -> Costs:
    """What the window between ``before`` and ``after`` cost per workflow.

    ``scrape_sql_statements``: what one ``GET /metrics`` itself runs (it counts queue depths at
    scrape time), measured by :func:`calibrate`; the closing scrape's statements are inside the
    window, so they are taken off.
    """
    client_requests = after.client_requests - before.client_requests
    sql = _delta(after.server_sql_statements, before.server_sql_statements)
    client_cpu_ms = (after.client_cpu_s - before.client_cpu_s) * 1000
    server_cpu = _delta(after.server_cpu_s, before.server_cpu_s)
    return Costs(
        workflows=workflows,
        client_requests_per_workflow=client_requests / workflows if workflows else 0.0,
        server_requests_per_workflow=_per(_delta(after.server_requests, before.server_requests), workflows),
        sql_statements_per_workflow=_per(None if sql is None else sql - scrape_sql_statements, workflows),
        server_cpu_ms_per_workflow=_per(None if server_cpu is None else server_cpu * 1000, workflows),
        client_cpu_ms_per_workflow=client_cpu_ms / workflows if workflows else 0.0,
        client_cpu_ms_per_request=_per(client_cpu_ms, client_requests),
    )


def _shown(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def cost_lines(cost: Costs, unit: str = "workflow") -> list[str]:
    """An aligned block of the figures, one per line, for the benchmark's printout."""
    rows = [
        (f"requests / {unit} (client, SDK counter)", _shown(cost.client_requests_per_workflow, 2)),
        (f"requests / {unit} (server, GET /metrics)", _shown(cost.server_requests_per_workflow, 2)),
        (f"SQL statements / {unit} (server)", _shown(cost.sql_statements_per_workflow, 1)),
        (f"server CPU ms / {unit}", _shown(cost.server_cpu_ms_per_workflow, 2)),
        (f"client CPU ms / {unit} (client + worker)", _shown(cost.client_cpu_ms_per_workflow, 2)),
        ("client CPU ms / request", _shown(cost.client_cpu_ms_per_request, 3)),
    ]
    width = max(len(label) for label, _ in rows)
    return [f"  {label:<{width}}  {value:>8}" for label, value in rows]


def as_json(figures: dict[str, object], cost: Costs) -> str:
    """One JSON object: the benchmark's own ``figures`` and the costs (``null`` for n/a)."""
    rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(cost).items()}
    return json.dumps({**figures, **rounded}, sort_keys=True)


def _server_cpu(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # not Linux, or the process is gone
        return None
    return proc_cpu_seconds(stat, float(os.sysconf("SC_CLK_TCK")))


async def scrape(http: httpx.AsyncClient, url: str, token: str) -> list[Sample] | None:
    """The server's ``GET /metrics`` samples, or ``None`` when it is not reachable or refused."""
    try:
        response = await http.get(f"{url}{METRICS_ROUTE}", headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return parse_prometheus(response.text)


@dataclass(frozen=True)
class Probe:
    """Where to read the counters: the server's URL and credential, the client's recorder, and
    the server's process id when the benchmark started it (``None``: no server CPU figure)."""

    http: httpx.AsyncClient
    url: str
    token: str
    recorder: InMemoryMetrics
    server_pid: int | None


async def take_snapshot(probe: Probe, *, opening: bool) -> Snapshot:
    """Read every counter now.

    The scrape itself costs CPU on both sides; the CPU clocks are read after the opening
    snapshot's scrape and before the closing one's, so no scrape's CPU falls into the window.
    """
    if not opening:
        client_cpu, server_cpu = time.process_time(), _server_cpu(probe.server_pid)
    samples = await scrape(probe.http, probe.url, probe.token)
    if opening:
        client_cpu, server_cpu = time.process_time(), _server_cpu(probe.server_pid)
    return Snapshot(
        client_cpu_s=client_cpu,
        client_requests=probe.recorder.counter(CLIENT_REQUESTS),
        server_requests=None
        if samples is None
        else metric_total(samples, SERVER_REQUESTS, skip_route=METRICS_ROUTE),
        server_sql_statements=None if samples is None else metric_total(samples, SERVER_SQL_STATEMENTS),
        server_cpu_s=server_cpu,
    )


async def open_window(probe: Probe) -> tuple[Snapshot, float]:
    """The opening snapshot, and the SQL statements one scrape runs (two scrapes back to back)."""
    first = await take_snapshot(probe, opening=True)
    second = await take_snapshot(probe, opening=True)
    per_scrape = _delta(second.server_sql_statements, first.server_sql_statements)
    return second, per_scrape or 0.0
