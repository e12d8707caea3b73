"""``dw system:*``: operator maintenance and metrics, admin-scoped on the server (cli.md §3.9).

The ``*-status`` commands show what a pass would act on; the ``*-pass`` commands run one pass
now. JSON is the server's report as it is (always exit 0); in human mode a pass in which some
item failed exits 1, so a cron job notices.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from ..command import Invocation, command
from ..views import seconds, status

if TYPE_CHECKING:
    from durable_workflow.client import Client

LIMIT = click.option(
    "--limit", type=click.IntRange(min=1), help="At most this many items (server caps at 100)."
)


def _report(inv: Invocation, call: Callable[[Client], Any]) -> dict[str, Any] | None:
    """Run ``call``; print its JSON and return ``None`` in JSON mode, else return the body."""
    body = dict(inv.call(call))
    if inv.json:
        inv.out.document(body)
        return None
    return body


def _ids(values: Any) -> str | None:
    return ", ".join(str(v) for v in values) if isinstance(values, list) and values else None


def _results(
    inv: Invocation, rows: Sequence[Any], key: str, extra: Callable[[Mapping[str, Any]], Any]
) -> bool:
    """The per-item table of a pass; returns whether any item failed."""
    items = [row for row in rows if isinstance(row, Mapping)]
    inv.out.table(
        ["ID", "Outcome", "Details"],
        ([row.get(key), status(row.get("outcome")), extra(row)] for row in items),
        empty="Nothing to do.",
    )
    return any(row.get("outcome") == "error" for row in items)


# ---------------------------------------------------------------------------- metrics


@command(
    "system:operator-metrics",
    summary="Show the operator metrics snapshot of the namespace (admin).",
    example="dw system:operator-metrics",
)
def operator_metrics(inv: Invocation) -> None:
    body = _report(inv, lambda client: client.operator_metrics())
    if body is None:
        return
    snapshot = body.get("operator_metrics")
    sections = snapshot if isinstance(snapshot, Mapping) else {}
    inv.out.title("Operator metrics")
    inv.out.fields(
        [
            ("Namespace", body.get("namespace") or inv.namespace),
            ("Generated", inv.out.moment(sections.get("generated_at"))),
        ]
    )
    for name, section in sections.items():
        if not isinstance(section, Mapping):
            continue
        inv.out.line()
        inv.out.line(name.replace("_", " ").capitalize())
        inv.out.fields([(f"  {key}", _flat(value)) for key, value in section.items()])


def _flat(value: Any) -> Any:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items()) or None
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False) if value else None
    return value


# ---------------------------------------------------------------------------- repair


@command(
    "system:repair-status",
    summary="Show the repair policy and the runs whose work is lost or stuck (admin).",
    example="dw system:repair-status",
)
def repair_status(inv: Invocation) -> None:
    body = _report(inv, lambda client: client.repair_status())
    if body is None:
        return
    policy = body.get("policy") or {}
    candidates = body.get("candidates") or {}
    inv.out.title("Repair status")
    inv.out.fields(
        [
            ("Namespace", body.get("namespace") or inv.namespace),
            ("Redispatch After", seconds(policy.get("redispatch_after_seconds"))),
            ("Loop Throttle", seconds(policy.get("loop_throttle_seconds"))),
            ("Scan Limit", policy.get("scan_limit")),
            ("Scan Strategy", policy.get("scan_strategy")),
            ("Failure Backoff Max", seconds(policy.get("failure_backoff_max_seconds"))),
            ("Candidates", candidates.get("total_candidates")),
            ("Existing Tasks", candidates.get("existing_task_candidates")),
            ("Missing Tasks", candidates.get("missing_task_candidates")),
            ("Scan Pressure", candidates.get("scan_pressure")),
            ("Oldest Task", inv.out.moment(candidates.get("oldest_task_candidate_created_at"))),
            (
                "Oldest Missing Run",
                inv.out.moment(candidates.get("oldest_missing_run_started_at")),
            ),
        ]
    )
    inv.out.line()
    inv.out.table(
        ["Scope", "Existing", "Missing", "Total", "Selected"],
        (
            [
                scope.get("scope_key"),
                scope.get("existing_task_candidates"),
                scope.get("missing_task_candidates"),
                scope.get("total_candidates"),
                scope.get("selected_total_candidates"),
            ]
            for scope in candidates.get("scopes") or []
            if isinstance(scope, Mapping)
        ),
        empty="No repair candidates.",
    )


def _pair(body: Mapping[str, Any], existing: str, missing: str) -> str:
    return f"{body.get(existing) or 0} existing, {body.get(missing) or 0} missing"


@command(
    "system:repair-pass",
    summary="Run one task-repair sweep now (admin).",
    example="dw system:repair-pass --run-id=01J9Z8RUN",
)
@click.option("--run-id", "run_ids", multiple=True, help="Only this run (repeatable).")
@click.option("--instance-id", help="Only the runs of this workflow instance.")
def repair_pass(inv: Invocation, run_ids: tuple[str, ...], instance_id: str | None) -> None:
    body = _report(
        inv, lambda client: client.repair_pass(run_ids=list(run_ids) or None, instance_id=instance_id)
    )
    if body is None:
        return
    inv.out.title("Repair pass")
    if body.get("throttled"):
        inv.out.line("skipped (watchdog throttle held)")
    inv.out.fields(
        [
            ("Namespace", body.get("namespace") or inv.namespace),
            (
                "Candidates",
                _pair(body, "selected_existing_task_candidates", "selected_missing_task_candidates"),
            ),
            ("Repaired", _pair(body, "repaired_existing_tasks", "repaired_missing_tasks")),
            ("Dispatched", body.get("dispatched_tasks")),
            (
                "Contracts",
                f"{body.get('selected_command_contract_candidates') or 0} selected, "
                f"{body.get('backfilled_command_contracts') or 0} backfilled, "
                f"{body.get('command_contract_backfill_unavailable') or 0} unavailable",
            ),
        ]
    )
    failures = [
        (key, item)
        for key, items in body.items()
        if key.endswith("_failures") and isinstance(items, list)
        for item in items
    ]
    for key, item in failures:
        detail = (
            item
            if not isinstance(item, Mapping)
            else (
                f"{item.get('run_id') or '-'}: {item.get('message') or item.get('error') or json.dumps(item)}"
            )
        )
        inv.out.line(f"{key.removesuffix('_failures').replace('_', ' ')} failure: {detail}")
    if failures:
        inv.ctx.exit(1)


# ---------------------------------------------------------------------------- activity timeouts


@command(
    "system:activity-timeout-status",
    summary="Show activity executions already past a deadline (admin).",
    example="dw system:activity-timeout-status",
)
def activity_timeout_status(inv: Invocation) -> None:
    body = _report(inv, lambda client: client.activity_timeout_status())
    if body is None:
        return
    inv.out.title("Activity timeouts")
    inv.out.fields(
        [
            ("Namespace", body.get("namespace") or inv.namespace),
            ("Expired", body.get("expired_count")),
            ("Scan Limit", body.get("scan_limit")),
            ("Scan Pressure", body.get("scan_pressure")),
            ("Execution IDs", _ids(body.get("expired_execution_ids"))),
        ]
    )


@command(
    "system:activity-timeout-pass",
    summary="Enforce passed activity deadlines now (admin).",
    example="dw system:activity-timeout-pass --limit=50",
)
@click.option(
    "--execution-id", "execution_ids", multiple=True, help="Only this activity execution (repeatable)."
)
@LIMIT
def activity_timeout_pass(inv: Invocation, execution_ids: tuple[str, ...], limit: int | None) -> None:
    _pass(
        inv,
        lambda client: client.activity_timeout_pass(execution_ids=list(execution_ids) or None, limit=limit),
        "Activity timeout pass",
        ("Processed", "Enforced", "Skipped", "Failed"),
        "execution_id",
    )


def _pass(
    inv: Invocation, call: Callable[[Client], Any], title: str, labels: Sequence[str], key: str
) -> None:
    """A per-item pass: its counters, then a table of its items keyed by ``key`` (exit 1 when one failed)."""
    body = _report(inv, call)
    if body is None:
        return
    inv.out.title(title)
    inv.out.fields(_counts(body, inv.namespace, labels))
    if _results(inv, body.get("results") or [], key, _detail):
        inv.ctx.exit(1)


def _counts(body: Mapping[str, Any], namespace: str, labels: Sequence[str]) -> list[tuple[str, Any]]:
    return [("Namespace", body.get("namespace") or namespace)] + [
        (label, body.get(label.lower()) or 0) for label in labels
    ]


def _detail(row: Mapping[str, Any]) -> Any:
    known = {"run_id", "execution_id", "outcome"}
    rest = {k: v for k, v in row.items() if k not in known and v not in (None, False)}
    return ", ".join(f"{k}={v}" for k, v in rest.items()) or None


# ---------------------------------------------------------------------------- retention


@command(
    "system:retention-status",
    summary="Show the retention window and the closed runs older than it (admin).",
    example="dw system:retention-status",
)
def retention_status(inv: Invocation) -> None:
    body = _report(inv, lambda client: client.retention_status())
    if body is None:
        return
    days = body.get("retention_days")
    inv.out.title("Retention")
    inv.out.fields(
        [
            ("Namespace", body.get("namespace") or inv.namespace),
            ("Retention", None if days is None else f"{days} days"),
            ("Cutoff", inv.out.moment(body.get("cutoff"))),
            ("Expired Runs", body.get("expired_run_count")),
            ("Scan Limit", body.get("scan_limit")),
            ("Scan Pressure", body.get("scan_pressure")),
            ("Run IDs", _ids(body.get("expired_run_ids"))),
        ]
    )


@command(
    "system:retention-pass",
    summary="Prune closed runs older than the retention window now (admin).",
    example="dw system:retention-pass --limit=50",
)
@click.option("--run-id", "run_ids", multiple=True, help="Only this run (repeatable).")
@LIMIT
def retention_pass(inv: Invocation, run_ids: tuple[str, ...], limit: int | None) -> None:
    _pass(
        inv,
        lambda client: client.retention_pass(run_ids=list(run_ids) or None, limit=limit),
        "Retention pass",
        ("Processed", "Pruned", "Skipped", "Failed"),
        "run_id",
    )


COMMANDS = (
    operator_metrics,
    repair_status,
    repair_pass,
    activity_timeout_status,
    activity_timeout_pass,
    retention_status,
    retention_pass,
)
