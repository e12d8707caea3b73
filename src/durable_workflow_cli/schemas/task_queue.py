"""The documents of the ``task-queue:*`` commands (``commands/task_queue.py``): the server's
answers with the resolved ``namespace``, and for the build-id commands the queue named on the
command line where the server left it out.
"""

from __future__ import annotations

from .model import (
    Array,
    Document,
    Node,
    Object,
    any_object,
    boolean,
    integer,
    integers,
    objects,
    record_of,
    text,
    texts,
)

QUEUE: dict[str, Node] = {"namespace": text(), "task_queue": text()}
DRAIN_INTENT = text(enum=("active", "draining"))
ROLLOUT_TIMES = texts("drained_at", "promoted_at", "rolled_back_at")
ROLLOUT_STATUSES = ("active", "active_with_draining", "draining", "stale_only", "no_workers")

DESCRIBE = Document(
    "task-queue",
    "dw task-queue:describe --json",
    Object(
        {
            "namespace": text(),
            "name": text(),
            **objects("stats", "admission"),
            "current_leases": Array(any_object(), nullable=True),
            "pollers": Array(any_object(), nullable=True),
        },
        required=("namespace", "name"),
    ),
)
LIST = Document(
    "task-queue-list",
    "dw task-queue:list --json",
    Object(
        {
            "namespace": text(),
            "task_queues": Array(
                Object(
                    {"namespace": text(), "name": text(), **objects("admission")},
                    required=("namespace", "name"),
                )
            ),
        },
        required=("namespace", "task_queues"),
    ),
)
LIST_RECORD = record_of(
    LIST, "task_queues", name="task-queue-list-record", title="dw task-queue:list --output=jsonl"
)

BUILD_ID = Object(
    {
        "build_id": text(null=True),
        "rollout_status": text(enum=ROLLOUT_STATUSES),
        "drain_intent": DRAIN_INTENT,
        **ROLLOUT_TIMES,
        "new_start_selected": boolean(),
        **integers(
            "active_worker_count",
            "draining_worker_count",
            "stale_worker_count",
            "total_worker_count",
            "workflow_definition_fingerprint_count",
            null=False,
            minimum=0,
        ),
        "runtimes": Array(text()),
        "sdk_versions": Array(text()),
        "workflow_definition_fingerprint_conflicts": Array(
            Object(
                {"workflow_type": text(), "fingerprint_count": integer(minimum=2)},
                required=("workflow_type", "fingerprint_count"),
            )
        ),
        **texts("last_heartbeat_at", "first_seen_at"),
    },
    required=(
        "build_id",
        "rollout_status",
        "active_worker_count",
        "draining_worker_count",
        "stale_worker_count",
        "total_worker_count",
        "runtimes",
        "sdk_versions",
        "last_heartbeat_at",
        "first_seen_at",
    ),
)
BUILD_IDS = Document(
    "task-queue-build-ids",
    "dw task-queue:build-ids --json",
    Object(
        {**QUEUE, "stale_after_seconds": integer(minimum=0), "build_ids": Array(BUILD_ID)},
        required=(*QUEUE, "stale_after_seconds", "build_ids"),
    ),
)
ROLLOUT = Document(
    "task-queue-build-id-rollout",
    "dw task-queue:drain|promote|resume --json",
    Object(
        {
            **QUEUE,
            "build_id": text(null=True),
            "drain_intent": DRAIN_INTENT,
            **ROLLOUT_TIMES,
            "new_start_selected": boolean(),
            **objects("deployment"),
        },
        required=(*QUEUE, "build_id", "drain_intent", "drained_at"),
    ),
)

COMMANDS: dict[str, tuple[str, Document]] = {
    "task-queue:list": ("--json", LIST),
    "task-queue:describe": ("--json", DESCRIBE),
    "task-queue:build-ids": ("--json", BUILD_IDS),
    **{f"task-queue:{verb}": ("--json", ROLLOUT) for verb in ("drain", "promote", "resume")},
}
JSONL: dict[str, Document] = {"task-queue:list": LIST_RECORD}
