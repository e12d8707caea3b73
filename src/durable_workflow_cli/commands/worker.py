"""``dw worker:*``: the worker registry (cli.md §3.6).

``list`` and ``describe`` read it (JSON with the resolved ``namespace``); ``register`` is a
worker-plane call for SDK authors, ``deregister`` an admin's clean-up; both print the server
body as it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from ..command import Invocation, command
from ..errors import CliError, ExitCode
from ..output import Renderer, parse_moment, relative
from ..views import UNVERSIONED, seconds, status, with_namespace

if TYPE_CHECKING:
    from durable_workflow.client import WorkerDescription

RUNTIMES = ("php", "python", "rust", "typescript", "go", "java", "external")


def _slots(worker: WorkerDescription) -> str | None:
    """``3/4 wf, 8/8 act``: free / capacity per task kind (the capacity alone when the worker
    reports no free slots, as a worker registered by ``dw worker:register`` does)."""
    free = worker.task_slots or {}
    parts = []
    for kind, short, capacity in (
        ("workflow", "wf", worker.max_concurrent_workflow_tasks),
        ("activity", "act", worker.max_concurrent_activity_tasks),
    ):
        available = free.get(f"{kind}_available")
        if capacity is None and available is None:
            continue
        if available is None:
            parts.append(f"{capacity} {short}")
        else:
            parts.append(f"{available}/{'-' if capacity is None else capacity} {short}")
    return ", ".join(parts) or None


@command(
    "worker:list",
    summary="List registered workers, most recent heartbeat first.",
    example="dw worker:list --task-queue=orders --status=active",
)
@click.option("--task-queue", help="Only workers of this task queue.")
@click.option("--status", help="Only workers in this status: active, stale, draining.")
def list_workers(inv: Invocation, task_queue: str | None, status: str | None) -> None:
    answer = inv.call(lambda client: client.list_workers(task_queue=task_queue, status=status))
    body = with_namespace(answer.raw, inv.namespace, items="workers")
    if inv.json:
        inv.out.records(body, "workers")
        return
    out = inv.out
    out.fields([("Namespace", inv.namespace)])
    out.table(
        ["Worker ID", "Task Queue", "Runtime", "Build ID", "Status", "Slots (free/cap)", "Last Heartbeat"],
        (
            [
                worker.worker_id,
                worker.task_queue,
                worker.runtime,
                worker.build_id or UNVERSIONED,
                _status(worker.status),
                _slots(worker),
                _ago(out, worker.last_heartbeat_at),
            ]
            for worker in answer.workers
        ),
        empty=f"No workers registered in namespace {inv.namespace}.",
        whole=("Worker ID",),
    )


def _ago(out: Renderer, value: str | None) -> str | None:
    """Only the relative time (``5s ago``): what a heartbeat column is read for, and it is short."""
    moment = parse_moment(value) if value else None
    return relative(moment, out.now) if moment else value


def _status(value: str | None) -> Any:
    return status(value)


@command(
    "worker:describe",
    summary="Describe a registered worker: build, types, slots and heartbeat.",
    example="dw worker:describe worker-alpha",
)
@click.argument("worker_id")
def describe(inv: Invocation, worker_id: str) -> None:
    worker = inv.call(lambda client: client.describe_worker(worker_id))
    if inv.json:
        inv.out.document(with_namespace(worker.raw, inv.namespace))
        return
    out = inv.out
    metrics = worker.process_metrics or {}
    out.title(f"Worker: {worker.worker_id}")
    out.fields(
        [
            ("Namespace", worker.namespace or inv.namespace),
            ("Task Queue", worker.task_queue),
            ("Runtime", worker.runtime),
            ("SDK Version", worker.sdk_version),
            ("Build ID", worker.build_id or UNVERSIONED),
            ("Status", _status(worker.status)),
            ("Task Slots", _slots(worker)),
            ("Admission", _admission(worker.admission)),
            ("Process Metrics", ", ".join(f"{k}={v}" for k, v in metrics.items()) or None),
            ("Heartbeat Interval", seconds(worker.heartbeat_interval_seconds)),
            ("Last Heartbeat", out.moment(worker.last_heartbeat_at)),
            ("Heartbeat Expires", out.moment(worker.heartbeat_expires_at)),
            ("Registered", out.moment(worker.registered_at)),
            ("Workflow Types", ", ".join(worker.supported_workflow_types) or None),
            ("Activity Types", ", ".join(worker.supported_activity_types) or None),
            ("Capabilities", ", ".join(worker.capabilities) or None),
        ]
    )


def _admission(admission: Mapping[str, Any] | None) -> str | None:
    """``workflow 1/4 leased, activity 0/8 leased``."""
    parts = []
    for kind, facts in (admission or {}).items():
        if isinstance(facts, Mapping):
            leased, limit = facts.get("leased_count"), facts.get("max_concurrent")
            parts.append(f"{kind.removesuffix('_tasks')} {leased if leased is not None else '?'}/"
                         f"{limit if limit is not None else '-'} leased")  # fmt: skip
    return ", ".join(parts) or None


@command(
    "worker:register",
    summary="Register a worker (worker protocol; for SDK authors and diagnostics).",
    example="dw worker:register cli-worker --task-queue=orders --workflow-type=orders.process",
    worker_plane=True,
)
@click.argument("worker_id", required=False)
@click.option("--task-queue", default="default", show_default=True, help="Task queue to serve.")
@click.option(
    "--runtime", default="external", show_default=True, help=f"Runtime label: {', '.join(RUNTIMES)}."
)
@click.option("--sdk-version", default="dw-cli", show_default=True, help="SDK version to report.")
@click.option("--build-id", help="Build id of the worker's code.")
@click.option(
    "--workflow-type", "workflow_types", multiple=True, help="A workflow type it runs (repeatable)."
)
@click.option(
    "--activity-type", "activity_types", multiple=True, help="An activity type it runs (repeatable)."
)
@click.option("--max-workflow-tasks", type=click.IntRange(min=1), help="Concurrent workflow tasks.")
@click.option("--max-activity-tasks", type=click.IntRange(min=1), help="Concurrent activity tasks.")
@click.option(
    "--capability",
    "capabilities",
    multiple=True,
    help="A worker-protocol capability it promises, e.g. query_tasks (repeatable).",
)
def register(
    inv: Invocation,
    worker_id: str | None,
    task_queue: str,
    runtime: str,
    sdk_version: str,
    build_id: str | None,
    workflow_types: tuple[str, ...],
    activity_types: tuple[str, ...],
    max_workflow_tasks: int | None,
    max_activity_tasks: int | None,
    capabilities: tuple[str, ...],
) -> None:
    chosen = worker_id or f"cli-{uuid.uuid4().hex[:12]}"
    answer = inv.call(
        lambda client: client.register_worker(
            worker_id=chosen,
            task_queue=task_queue,
            runtime=runtime,
            sdk_version=sdk_version,
            build_id=build_id,
            supported_workflow_types=list(workflow_types) or None,
            supported_activity_types=list(activity_types) or None,
            max_concurrent_workflow_tasks=max_workflow_tasks,
            max_concurrent_activity_tasks=max_activity_tasks,
            capabilities=list(capabilities) or None,
        )
    )
    body: dict[str, Any] = dict(answer)
    if body.get("registered") is not True:
        raise CliError(
            f"The server did not register worker {chosen}.",
            ExitCode.FAILURE,
            reason=str(body.get("reason") or "not_registered"),
            details={"worker_id": chosen, "server_response": body},
        )
    if inv.json:
        inv.out.document(body)
        return
    inv.out.title("Worker registered")
    inv.out.fields(
        [
            ("Worker ID", body.get("worker_id") or chosen),
            ("Namespace", inv.namespace),
            ("Task Queue", body.get("task_queue") or task_queue),
            ("Runtime", body.get("runtime") or runtime),
            ("Build ID", build_id),
            ("Status", _status(body.get("status"))),
        ]
    )


@command(
    "worker:deregister",
    summary="Remove a worker's registration (admin; its leases run on).",
    example="dw worker:deregister worker-alpha",
)
@click.argument("worker_id")
def deregister(inv: Invocation, worker_id: str) -> None:
    body = inv.call(lambda client: client.deregister_worker(worker_id))
    if inv.json:
        inv.out.document(body)
        return
    inv.out.line(f"Worker {body.get('worker_id') or worker_id}: {body.get('outcome') or 'deregistered'}")


COMMANDS = (list_workers, describe, register, deregister)
