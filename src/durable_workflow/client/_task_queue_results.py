"""Typed results of the task-queue, build-id and worker methods. Every class keeps the answer in ``raw``.

Readers are tolerant: a key the server omits (an older server, or a fact it does not track)
reads as ``None`` (or an empty list), never as an error, so one script runs against any server
of the contract.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from .._fields import mappings, opt_bool, opt_int, opt_mapping, opt_text, text, texts

__all__ = [
    "TaskQueueAdmission",
    "TaskQueueBuildIdCohort",
    "TaskQueueBuildIdRollout",
    "TaskQueueBuildIdRolloutState",
    "TaskQueueDescription",
    "TaskQueueLease",
    "TaskQueueList",
    "TaskQueuePoller",
    "TaskQueueQueryAdmission",
    "TaskQueueStats",
    "TaskQueueTaskAdmission",
    "TaskQueueTaskCounts",
    "WorkerDescription",
    "WorkerList",
]

_Flat = TypeVar("_Flat")


def _flat(cls: type[_Flat], data: Any) -> _Flat:
    """Fill a dataclass of scalar facts from ``data``, each field read by its declared type."""
    source: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    readers = {"int": opt_int, "bool": opt_bool, "str": opt_text}
    values: dict[str, Any] = {}
    for item in fields(cls):  # type: ignore[arg-type]
        if item.name == "raw":
            values["raw"] = dict(source)
            continue
        kind = str(item.type).split(" ", 1)[0]
        values[item.name] = readers[kind](source, item.name)
    return cls(**values)


# --------------------------------------------------------------------------- describe / list


@dataclass(frozen=True)
class TaskQueueTaskAdmission:
    """Admission of workflow or activity tasks on a queue: worker slots and server budgets.

    ``status`` is ``accepting``, ``saturated`` (more ready tasks than free slots), ``no_slots``,
    ``no_active_workers``, ``throttled`` (a server budget is spent) or ``unavailable``. A
    ``server_max_*`` limit is ``None`` when the server sets none.
    """

    status: str | None = None
    budget_source: str | None = None
    server_budget_source: str | None = None
    active_worker_count: int | None = None
    configured_slot_count: int | None = None
    leased_count: int | None = None
    ready_count: int | None = None
    available_slot_count: int | None = None
    server_max_active_leases_per_queue: int | None = None
    server_active_lease_count: int | None = None
    server_remaining_active_lease_capacity: int | None = None
    server_max_active_leases_per_namespace: int | None = None
    server_namespace_active_lease_count: int | None = None
    server_remaining_namespace_active_lease_capacity: int | None = None
    server_max_dispatches_per_minute: int | None = None
    server_dispatch_count_this_minute: int | None = None
    server_remaining_dispatch_capacity: int | None = None
    server_max_dispatches_per_minute_per_namespace: int | None = None
    server_namespace_dispatch_count_this_minute: int | None = None
    server_remaining_namespace_dispatch_capacity: int | None = None
    server_dispatch_budget_group: str | None = None
    server_max_dispatches_per_minute_per_budget_group: int | None = None
    server_budget_group_dispatch_count_this_minute: int | None = None
    server_remaining_budget_group_dispatch_capacity: int | None = None
    server_lock_required: bool | None = None
    server_lock_supported: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class TaskQueueQueryAdmission:
    """Admission of worker-routed queries: ``status`` is ``accepting``, ``full`` or ``unavailable``."""

    status: str | None = None
    budget_source: str | None = None
    max_pending_per_queue: int | None = None
    approximate_pending_count: int | None = None
    remaining_pending_capacity: int | None = None
    lock_required: bool | None = None
    lock_supported: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class TaskQueueAdmission:
    """The three admission blocks of a queue (``None`` when the server sent no such block)."""

    workflow_tasks: TaskQueueTaskAdmission | None = None
    activity_tasks: TaskQueueTaskAdmission | None = None
    query_tasks: TaskQueueQueryAdmission | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> TaskQueueAdmission:
        source: Mapping[str, Any] = data if isinstance(data, Mapping) else {}

        def block(key: str, kind: type[_Flat]) -> _Flat | None:
            value = source.get(key)
            return _flat(kind, value) if isinstance(value, Mapping) else None

        return cls(
            workflow_tasks=block("workflow_tasks", TaskQueueTaskAdmission),
            activity_tasks=block("activity_tasks", TaskQueueTaskAdmission),
            query_tasks=block("query_tasks", TaskQueueQueryAdmission),
            raw=dict(source),
        )


@dataclass(frozen=True)
class TaskQueueTaskCounts:
    """Tasks of one kind: claimable now, leased, and leased past their lease."""

    ready_count: int | None = None
    leased_count: int | None = None
    expired_lease_count: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class TaskQueueStats:
    """Backlog and poller counts of a queue. ``oldest_ready_task`` is the raw object (or ``None``)."""

    approximate_backlog_count: int | None = None
    approximate_backlog_age: str | None = None
    approximate_backlog_age_seconds: int | None = None
    oldest_ready_task: dict[str, Any] | None = None
    workflow_tasks: TaskQueueTaskCounts = field(default_factory=TaskQueueTaskCounts)
    activity_tasks: TaskQueueTaskCounts = field(default_factory=TaskQueueTaskCounts)
    active_pollers: int | None = None
    stale_pollers: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> TaskQueueStats:
        source: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        pollers = opt_mapping(source, "pollers") or {}
        return cls(
            approximate_backlog_count=opt_int(source, "approximate_backlog_count"),
            approximate_backlog_age=opt_text(source, "approximate_backlog_age"),
            approximate_backlog_age_seconds=opt_int(source, "approximate_backlog_age_seconds"),
            oldest_ready_task=opt_mapping(source, "oldest_ready_task"),
            workflow_tasks=_flat(TaskQueueTaskCounts, source.get("workflow_tasks")),
            activity_tasks=_flat(TaskQueueTaskCounts, source.get("activity_tasks")),
            active_pollers=opt_int(pollers, "active_count"),
            stale_pollers=opt_int(pollers, "stale_count"),
            raw=dict(source),
        )


@dataclass(frozen=True)
class TaskQueuePoller:
    """A worker registered on the queue (``is_stale``: no heartbeat within the stale window)."""

    worker_id: str
    runtime: str | None = None
    sdk_version: str | None = None
    build_id: str | None = None
    status: str | None = None
    is_stale: bool | None = None
    last_heartbeat_at: str | None = None
    heartbeat_expires_at: str | None = None
    supported_workflow_types: list[str] = field(default_factory=list)
    supported_activity_types: list[str] = field(default_factory=list)
    max_concurrent_workflow_tasks: int | None = None
    max_concurrent_activity_tasks: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskQueuePoller:
        return cls(
            worker_id=text(data, "worker_id"),
            runtime=opt_text(data, "runtime"),
            sdk_version=opt_text(data, "sdk_version"),
            build_id=opt_text(data, "build_id"),
            status=opt_text(data, "status"),
            is_stale=opt_bool(data, "is_stale"),
            last_heartbeat_at=opt_text(data, "last_heartbeat_at"),
            heartbeat_expires_at=opt_text(data, "heartbeat_expires_at"),
            supported_workflow_types=texts(data, "supported_workflow_types"),
            supported_activity_types=texts(data, "supported_activity_types"),
            max_concurrent_workflow_tasks=opt_int(data, "max_concurrent_workflow_tasks"),
            max_concurrent_activity_tasks=opt_int(data, "max_concurrent_activity_tasks"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class TaskQueueLease:
    """A task leased on the queue now: ``task_type`` ``workflow`` (with ``workflow_task_attempt``)
    or ``activity`` (with ``activity_attempt_id`` and ``attempt_number``)."""

    task_id: str
    task_type: str
    workflow_id: str | None = None
    run_id: str | None = None
    lease_owner: str | None = None
    lease_expires_at: str | None = None
    is_expired: bool | None = None
    workflow_task_attempt: int | None = None
    activity_attempt_id: str | None = None
    attempt_number: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskQueueLease:
        return cls(
            task_id=text(data, "task_id"),
            task_type=text(data, "task_type"),
            workflow_id=opt_text(data, "workflow_id"),
            run_id=opt_text(data, "run_id"),
            lease_owner=opt_text(data, "lease_owner"),
            lease_expires_at=opt_text(data, "lease_expires_at"),
            is_expired=opt_bool(data, "is_expired"),
            workflow_task_attempt=opt_int(data, "workflow_task_attempt"),
            activity_attempt_id=opt_text(data, "activity_attempt_id"),
            attempt_number=opt_int(data, "attempt_number"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class TaskQueueDescription:
    """One task queue: backlog, pollers, current leases, repair facts and admission.

    ``list_task_queues`` items carry no pollers or leases (empty lists); ``repair`` is the raw
    repair block (``candidates``, ``expired_leases``, ``dispatch_overdue``, ``needs_attention``).
    """

    name: str
    namespace: str | None = None
    stats: TaskQueueStats = field(default_factory=TaskQueueStats)
    admission: TaskQueueAdmission = field(default_factory=TaskQueueAdmission)
    pollers: list[TaskQueuePoller] = field(default_factory=list)
    current_leases: list[TaskQueueLease] = field(default_factory=list)
    repair: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskQueueDescription:
        """Build from a ``GET /task-queues/{name}`` body or a ``GET /task-queues`` item."""
        return cls(
            name=text(data, "name"),
            namespace=opt_text(data, "namespace"),
            stats=TaskQueueStats.from_dict(data.get("stats")),
            admission=TaskQueueAdmission.from_dict(data.get("admission")),
            pollers=[TaskQueuePoller.from_dict(item) for item in mappings(data, "pollers")],
            current_leases=[TaskQueueLease.from_dict(item) for item in mappings(data, "current_leases")],
            repair=opt_mapping(data, "repair"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class TaskQueueList:
    """The namespace's task queues; iterating yields each :class:`TaskQueueDescription`."""

    namespace: str | None
    task_queues: list[TaskQueueDescription]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Iterator[TaskQueueDescription]:
        return iter(self.task_queues)

    def __len__(self) -> int:
        return len(self.task_queues)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskQueueList:
        """Build from a ``GET /task-queues`` body."""
        queues = [TaskQueueDescription.from_dict(item) for item in mappings(data, "task_queues")]
        return cls(namespace=opt_text(data, "namespace"), task_queues=queues, raw=dict(data))


# --------------------------------------------------------------------------- build ids


@dataclass(frozen=True)
class TaskQueueBuildIdCohort:
    """The workers of one build id on a queue (``build_id`` ``None``: the unversioned ones).

    ``rollout_status`` is ``active``, ``active_with_draining``, ``draining``, ``stale_only`` or
    ``no_workers`` (a cohort known only by a recorded drain or promotion).
    ``new_start_selected`` marks the cohort new runs of the queue pin to.
    """

    build_id: str | None
    rollout_status: str
    active_worker_count: int = 0
    draining_worker_count: int = 0
    stale_worker_count: int = 0
    total_worker_count: int = 0
    runtimes: list[str] = field(default_factory=list)
    sdk_versions: list[str] = field(default_factory=list)
    last_heartbeat_at: str | None = None
    first_seen_at: str | None = None
    drain_intent: str | None = None
    drained_at: str | None = None
    promoted_at: str | None = None
    new_start_selected: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskQueueBuildIdCohort:
        return cls(
            build_id=opt_text(data, "build_id"),
            rollout_status=text(data, "rollout_status"),
            active_worker_count=opt_int(data, "active_worker_count") or 0,
            draining_worker_count=opt_int(data, "draining_worker_count") or 0,
            stale_worker_count=opt_int(data, "stale_worker_count") or 0,
            total_worker_count=opt_int(data, "total_worker_count") or 0,
            runtimes=texts(data, "runtimes"),
            sdk_versions=texts(data, "sdk_versions"),
            last_heartbeat_at=opt_text(data, "last_heartbeat_at"),
            first_seen_at=opt_text(data, "first_seen_at"),
            drain_intent=opt_text(data, "drain_intent"),
            drained_at=opt_text(data, "drained_at"),
            promoted_at=opt_text(data, "promoted_at"),
            new_start_selected=opt_bool(data, "new_start_selected") is True,
            raw=dict(data),
        )


@dataclass(frozen=True)
class TaskQueueBuildIdRollout:
    """The build-id cohorts of one queue, in rollout order; iterating yields each cohort."""

    namespace: str | None
    task_queue: str
    stale_after_seconds: int | None
    build_ids: list[TaskQueueBuildIdCohort]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Iterator[TaskQueueBuildIdCohort]:
        return iter(self.build_ids)

    def __len__(self) -> int:
        return len(self.build_ids)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, task_queue: str = "") -> TaskQueueBuildIdRollout:
        """Build from a ``GET /task-queues/{name}/build-ids`` body."""
        return cls(
            namespace=opt_text(data, "namespace"),
            task_queue=text(data, "task_queue", task_queue),
            stale_after_seconds=opt_int(data, "stale_after_seconds"),
            build_ids=[TaskQueueBuildIdCohort.from_dict(item) for item in mappings(data, "build_ids")],
            raw=dict(data),
        )


@dataclass(frozen=True)
class TaskQueueBuildIdRolloutState:
    """What drain, resume and promote recorded for one cohort (``drain_intent`` ``active`` or
    ``draining``; ``drained_at`` only while draining; ``promoted_at`` / ``new_start_selected``
    once the cohort is the one new runs pin to)."""

    namespace: str | None
    task_queue: str
    build_id: str | None
    drain_intent: str
    drained_at: str | None = None
    promoted_at: str | None = None
    new_start_selected: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, task_queue: str = "") -> TaskQueueBuildIdRolloutState:
        return cls(
            namespace=opt_text(data, "namespace"),
            task_queue=text(data, "task_queue", task_queue),
            build_id=opt_text(data, "build_id"),
            drain_intent=text(data, "drain_intent"),
            drained_at=opt_text(data, "drained_at"),
            promoted_at=opt_text(data, "promoted_at"),
            new_start_selected=opt_bool(data, "new_start_selected") is True,
            raw=dict(data),
        )


# --------------------------------------------------------------------------- workers


@dataclass(frozen=True)
class WorkerDescription:
    """A registered worker: what it runs, its build, its last heartbeat and its admission.

    ``status`` is ``active``, ``draining`` (its build-id cohort is drained) or ``stale`` (no
    heartbeat within the stale window). ``admission`` (describe only) holds, per task kind,
    ``max_concurrent``, ``leased_count`` and ``available_slot_count``.
    """

    worker_id: str
    namespace: str | None = None
    task_queue: str | None = None
    runtime: str | None = None
    sdk_version: str | None = None
    build_id: str | None = None
    status: str | None = None
    is_stale: bool | None = None
    supported_workflow_types: list[str] = field(default_factory=list)
    supported_activity_types: list[str] = field(default_factory=list)
    workflow_definition_fingerprints: dict[str, str] = field(default_factory=dict)
    max_concurrent_workflow_tasks: int | None = None
    max_concurrent_activity_tasks: int | None = None
    last_heartbeat_at: str | None = None
    heartbeat_expires_at: str | None = None
    registered_at: str | None = None
    updated_at: str | None = None
    capabilities: list[str] = field(default_factory=list)
    task_slots: dict[str, Any] | None = None
    process_metrics: dict[str, Any] | None = None
    heartbeat_interval_seconds: int | None = None
    admission: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, worker_id: str = "") -> WorkerDescription:
        """Build from a ``GET /workers/{id}`` body or a ``GET /workers`` item."""
        fingerprints = opt_mapping(data, "workflow_definition_fingerprints") or {}
        return cls(
            worker_id=text(data, "worker_id", worker_id),
            namespace=opt_text(data, "namespace"),
            task_queue=opt_text(data, "task_queue"),
            runtime=opt_text(data, "runtime"),
            sdk_version=opt_text(data, "sdk_version"),
            build_id=opt_text(data, "build_id"),
            status=opt_text(data, "status"),
            is_stale=opt_bool(data, "is_stale"),
            supported_workflow_types=texts(data, "supported_workflow_types"),
            supported_activity_types=texts(data, "supported_activity_types"),
            workflow_definition_fingerprints={
                key: value for key, value in fingerprints.items() if isinstance(value, str)
            },
            max_concurrent_workflow_tasks=opt_int(data, "max_concurrent_workflow_tasks"),
            max_concurrent_activity_tasks=opt_int(data, "max_concurrent_activity_tasks"),
            last_heartbeat_at=opt_text(data, "last_heartbeat_at"),
            heartbeat_expires_at=opt_text(data, "heartbeat_expires_at"),
            registered_at=opt_text(data, "registered_at"),
            updated_at=opt_text(data, "updated_at"),
            capabilities=texts(data, "capabilities"),
            task_slots=opt_mapping(data, "task_slots"),
            process_metrics=opt_mapping(data, "process_metrics"),
            heartbeat_interval_seconds=opt_int(data, "heartbeat_interval_seconds"),
            admission=opt_mapping(data, "admission"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class WorkerList:
    """Registered workers, most recent heartbeat first; iterating yields each worker."""

    namespace: str | None
    workers: list[WorkerDescription]
    stale_after_seconds: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Iterator[WorkerDescription]:
        return iter(self.workers)

    def __len__(self) -> int:
        return len(self.workers)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkerList:
        """Build from a ``GET /workers`` body."""
        return cls(
            namespace=opt_text(data, "namespace"),
            workers=[WorkerDescription.from_dict(item) for item in mappings(data, "workers")],
            stale_after_seconds=opt_int(data, "stale_after_seconds"),
            raw=dict(data),
        )
