"""The independent checker: every history read back over HTTP, every invariant counted.

It trusts nothing the driver or the workers say about the server. It reads each workflow's runs
(``GET /workflows/{id}/runs``), every run's history page by page (``GET .../history``, small
pages so paging is exercised) and its export bundle (``GET .../history/export``), and it counts
activity executions from the workers' files (``workload._record``). Violations:

- a workflow not completed, or completed with a result other than the one its input implies;
- a history whose sequence numbers have a gap or a duplicate, or whose pages and export differ;
- a timer that fired twice or never; a signal lost or recorded twice; an update not applied
  exactly once; a child that did not complete exactly once;
- an activity step completed zero or several times in history, or completed by an attempt that
  no worker executed to the end;
- a 5xx answer to the driver or to a worker.

Executions repeated because a lease expired or a timeout fired are counted (``redeliveries``),
never violations: at-least-once execution with exactly-once completion is the contract.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from durable_workflow.protocol import codec

from .cluster import Cluster
from .driver import DriverStats, Planned
from .report import ChaosReport
from .workload import SIGNAL, expected_result, expected_steps, update_note

PAGE_SIZE = 25
Event = dict[str, Any]


@dataclass
class RunRecord:
    """One run as read back: its history (pages joined) and its export bundle."""

    workflow_id: str
    run_id: str
    events: list[Event]
    export: dict[str, Any]

    def of_type(self, event_type: str) -> list[Event]:
        return [e for e in self.events if e["event_type"] == event_type]


@dataclass
class Execution:
    """One line of a worker's execution file."""

    kind: str
    wid: str
    step: str
    attempt: int
    pid: int


class Reader:
    """GETs against the servers in turn, retrying transport failures briefly."""

    def __init__(self, urls: list[str], token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "X-Durable-Workflow-Control-Plane-Version": "2"}
        self.clients = [httpx.AsyncClient(base_url=f"{u}/api", headers=headers, timeout=30) for u in urls]
        self._next = 0

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()

    async def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        last: Exception | None = None
        for _ in range(10):
            client = self.clients[self._next % len(self.clients)]
            self._next += 1
            try:
                response = await client.get(path, params=params)
            except httpx.TransportError as exc:
                last = exc
                await asyncio.sleep(0.5)
                continue
            if response.status_code != 200:
                raise CheckError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
            body: dict[str, Any] = response.json()
            return body
        raise CheckError(f"GET {path}: no server answered ({last})")


class CheckError(Exception):
    """A read the checker needs failed: itself a violation."""


async def read_run(reader: Reader, workflow_id: str, run_id: str) -> RunRecord:
    base = f"/workflows/{workflow_id}/runs/{run_id}"
    events: list[Event] = []
    token: str | None = None
    for _ in range(10_000):  # bounded: far above any chaos history's page count
        params: dict[str, Any] = {"page_size": PAGE_SIZE}
        if token:
            params["next_page_token"] = token
        page = await reader.get(f"{base}/history", params)
        events += page["events"]
        token = page.get("next_page_token")
        if not token:
            break
    export = await reader.get(f"{base}/history/export")
    return RunRecord(workflow_id, run_id, events, export)


async def read_workflow(reader: Reader, workflow_id: str) -> list[RunRecord]:
    listing = await reader.get(f"/workflows/{workflow_id}/runs")
    return [await read_run(reader, workflow_id, run["run_id"]) for run in listing["runs"]]


def decode(payload: dict[str, Any], key: str) -> Any:
    return codec.decode(payload[key], payload.get("payload_codec") or codec.AVRO)


def check_sequences(run: RunRecord, violations: list[str]) -> None:
    """Sequences 1..N without a gap or duplicate; pages and export agree on every event."""
    where = f"{run.workflow_id}/{run.run_id}"
    sequences = [int(e["sequence"]) for e in run.events]
    duplicates = sorted(s for s, n in Counter(sequences).items() if n > 1)
    if duplicates:
        violations.append(f"{where}: duplicate sequence numbers {duplicates[:10]}")
    if sorted(set(sequences)) != list(range(1, len(set(sequences)) + 1)):
        violations.append(f"{where}: sequence gap in {sorted(set(sequences))[:40]}")
    exported = [(int(e["sequence"]), e["type"], e["id"]) for e in run.export.get("history_events", [])]
    paged = [(int(e["sequence"]), e["event_type"], e["id"]) for e in run.events]
    if exported != paged:
        violations.append(f"{where}: the export's {len(exported)} events differ from the {len(paged)} paged")
    last = run.export.get("workflow", {}).get("last_history_sequence")
    if sequences and last != max(sequences):
        violations.append(f"{where}: last_history_sequence {last} but the history ends at {max(sequences)}")


def check_timers(run: RunRecord, expected: int, violations: list[str]) -> int:
    where = f"{run.workflow_id}/{run.run_id}"
    scheduled = [e["payload"]["timer_id"] for e in run.of_type("TimerScheduled")]
    fired = Counter(e["payload"]["timer_id"] for e in run.of_type("TimerFired"))
    if len(scheduled) != expected:
        violations.append(f"{where}: {len(scheduled)} timers scheduled, expected {expected}")
    for timer_id in scheduled:
        if fired[timer_id] != 1:
            violations.append(f"{where}: timer {timer_id} fired {fired[timer_id]} times")
    for timer_id in set(fired) - set(scheduled):
        violations.append(f"{where}: timer {timer_id} fired but was never scheduled")
    return sum(fired.values())


def closing(run: RunRecord) -> Event | None:
    return run.events[-1] if run.events else None


@dataclass
class Tally:
    """What the per-workflow checks add up over the whole run."""

    completions: Counter[tuple[str, int]] = field(default_factory=Counter)  # (step key, attempt)
    runs: int = 0
    children: int = 0
    events: int = 0
    retries: int = 0
    timeouts: int = 0
    timers: int = 0
    signals: int = 0
    updates: int = 0


def _count_activities(runs: list[RunRecord], tally: Tally, violations: list[str]) -> Counter[str]:
    per_step: Counter[str] = Counter()
    for run in runs:
        by_execution = Counter(
            e["payload"]["activity_execution_id"] for e in run.of_type("ActivityCompleted")
        )
        for execution_id, count in by_execution.items():
            if count > 1:
                violations.append(
                    f"{run.workflow_id}/{run.run_id}: activity {execution_id} completed {count}x"
                )
        for event in run.of_type("ActivityCompleted"):
            key = decode(event["payload"], "result")
            per_step[key] += 1
            tally.completions[(key, int(event["payload"]["attempt_number"]))] += 1
        tally.retries += len(run.of_type("ActivityRetryScheduled"))
        # A timeout with attempts left is an ActivityRetryScheduled naming its timeout_kind.
        retried = [e for e in run.of_type("ActivityRetryScheduled") if e["payload"].get("timeout_kind")]
        tally.timeouts += len(run.of_type("ActivityTimedOut")) + len(retried)
        tally.events += len(run.events)
    return per_step


def check_workflow(
    planned: Planned, runs: list[RunRecord], child: list[RunRecord], tally: Tally
) -> list[str]:
    """Every invariant of one chaos workflow (its two runs and its child); the violations found."""
    spec, wid = planned.spec, planned.spec["id"]
    violations = [f"{wid}: the driver failed: {error}" for error in planned.errors]
    tally.runs += len(runs) + len(child)
    for run in runs + child:
        check_sequences(run, violations)
    if len(runs) != 2:
        return [*violations, f"{wid}: {len(runs)} runs, expected 2 (one continue-as-new)"]
    first, last = runs
    end_first, end_last = closing(first), closing(last)
    if end_first is None or end_first["event_type"] != "WorkflowContinuedAsNew":
        violations.append(f"{wid}: the first run ended with {end_first and end_first['event_type']}")
    if end_last is None or end_last["event_type"] != "WorkflowCompleted":
        violations.append(f"{wid}: the last run ended with {end_last and end_last['event_type']}")
    else:
        result = decode(end_last["payload"], "output")
        if result != expected_result(spec):
            violations.append(f"{wid}: result {json.dumps(result)} != {json.dumps(expected_result(spec))}")
    tally.timers += check_timers(first, 1, violations) + check_timers(last, 1, violations)

    received = [e for run in runs for e in run.of_type("SignalReceived")]
    own = Counter(
        e["payload"].get("request_id") for e in received if not e["payload"].get("carried_from_run_id")
    )
    wanted = {f"{wid}:{SIGNAL}:{j}" for j in range(spec["signals"])}
    for request_id in sorted(wanted | set(own)):
        if own[request_id] != 1:
            violations.append(f"{wid}: signal {request_id} recorded {own[request_id]} times")
    tally.signals += sum(own.values())

    accepted = [e for run in runs for e in run.of_type("UpdateAccepted")]
    completed = Counter(e["payload"]["update_id"] for run in runs for e in run.of_type("UpdateCompleted"))
    if len(accepted) != (1 if spec["update"] else 0):
        violations.append(f"{wid}: {len(accepted)} updates accepted, expected {int(spec['update'])}")
    for event in accepted:
        update_id = event["payload"]["update_id"]
        if completed[update_id] != 1:
            violations.append(f"{wid}: update {update_id} completed {completed[update_id]} times")
        if decode(event["payload"], "arguments") != [update_note(wid)]:
            violations.append(f"{wid}: update {update_id} carried the wrong arguments")
    tally.updates += len(accepted)

    scheduled_children = first.of_type("ChildWorkflowScheduled")
    if len(scheduled_children) != (1 if spec["child"] else 0):
        violations.append(
            f"{wid}: {len(scheduled_children)} children scheduled, expected {int(spec['child'])}"
        )
    if spec["child"]:
        tally.children += 1
        if len(child) != 1:
            violations.append(f"{wid}: the child has {len(child)} runs, expected 1")
        for run in child:
            end = closing(run)
            if end is None or end["event_type"] != "WorkflowCompleted":
                violations.append(f"{wid}: the child run ended with {end and end['event_type']}")
            tally.timers += check_timers(run, 1, violations)

    per_step = _count_activities(runs + child, tally, violations)
    for key in sorted(set(expected_steps(spec)) | set(per_step)):
        if per_step[key] != 1:
            violations.append(f"{wid}: step {key} completed {per_step[key]} times in history")
    return violations


def read_executions(run_dir: Path) -> list[Execution]:
    executions = []
    for path in sorted(run_dir.glob("executions-*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                executions.append(Execution(row["kind"], row["wid"], row["step"], row["attempt"], row["pid"]))
    return executions


def check_executions(report: ChaosReport, tally: Tally, executions: list[Execution]) -> None:
    """Execution counts from the workers' files against completions from the histories."""
    starts = [e for e in executions if e.kind == "start"]
    ends = {(e.wid, e.step, e.attempt, e.pid) for e in executions if e.kind != "start"}
    done = Counter((f"{e.wid}/{e.step}", e.attempt) for e in executions if e.kind == "done")
    done_per_step = Counter(f"{e.wid}/{e.step}" for e in executions if e.kind == "done")
    report.activity_executions = len(starts)
    report.planned_failures = sum(1 for e in executions if e.kind == "fail")
    report.abandoned_executions = sum(1 for e in starts if (e.wid, e.step, e.attempt, e.pid) not in ends)
    report.steps = len(done_per_step)
    report.redeliveries = len(starts) - report.planned_failures - len(done_per_step)
    report.steps_run_to_completion_twice = sum(1 for n in done_per_step.values() if n > 1)
    for (key, attempt), _count in sorted(tally.completions.items()):
        if done[(key, attempt)] == 0:
            report.violations.append(f"step {key} completed by attempt {attempt}, which no worker finished")


def scan_logs(report: ChaosReport, run_dir: Path) -> None:
    answered_5xx = re.compile(r"answered 5\d\d")
    for path in sorted(run_dir.glob("worker-*.log")):
        hits = [line for line in path.read_text(errors="replace").splitlines() if answered_5xx.search(line)]
        report.worker_5xx += len(hits)
        report.violations += [f"{path.name}: {line[:300]}" for line in hits[:5]]
    for path in sorted(run_dir.glob("server-*.log")):
        text = path.read_text(errors="replace")
        count = text.count("Traceback (most recent call last)")
        report.server_tracebacks += count
        if count:
            report.notes.append(f"{path.name}: {count} tracebacks (see the log in {run_dir})")


async def _post_mortem(reader: Reader, wid: str, runs: list[RunRecord]) -> str:
    """Where a failed workflow stands: its last events and the server's debug view."""
    tail = [f"{e['sequence']}:{e['event_type']}" for e in runs[-1].events[-6:]] if runs else []
    try:
        debug = await reader.get(f"/workflows/{wid}/debug")
    except CheckError as exc:
        return f"{wid}: last events {tail}; debug view unavailable: {exc}"
    facts = {
        key: debug.get(key)
        for key in ("diagnostic_status", "findings", "pending_workflow_tasks", "pending_activities")
    }
    return f"{wid}: last events {tail}; debug {json.dumps(facts, default=str)[:1500]}"


async def check(cluster: Cluster, token: str, planned: list[Planned], driver: DriverStats) -> ChaosReport:
    """Read everything back and build the report."""
    report = ChaosReport(workflows=len(planned), driver=driver)
    tally = Tally()
    reader = Reader(cluster.urls, token)
    try:
        for item in planned:
            wid = item.spec["id"]
            try:
                runs = await read_workflow(reader, wid)
                child: list[RunRecord] = []
                if runs:
                    for event in runs[0].of_type("ChildWorkflowScheduled"):
                        child += await read_workflow(reader, event["payload"]["child_workflow_instance_id"])
                found = check_workflow(item, runs, child, tally)
                if found:
                    report.notes.append(await _post_mortem(reader, wid, runs))
            except CheckError as exc:
                found = [f"{wid}: {exc}"]
            report.violations += found
            report.completed += not found
    finally:
        await reader.close()
    check_executions(report, tally, read_executions(cluster.run_dir))
    scan_logs(report, cluster.run_dir)
    report.runs, report.child_workflows, report.events = tally.runs, tally.children, tally.events
    report.history_retries, report.activity_timeouts = tally.retries, tally.timeouts
    report.timers_fired, report.signals, report.updates = tally.timers, tally.signals, tally.updates
    if report.driver.server_errors:
        report.violations += [f"5xx to the driver: {s}" for s in report.driver.server_error_samples]
    return report
