"""The documents of ``worker:*`` (``commands/worker.py``): registered workers as the server
describes them, with the resolved ``namespace``; register/deregister print the server's answer.
"""

from __future__ import annotations

from .model import Array, Document, Node, Object, boolean, integer, integers, number, record_of, text, texts

SLOTS = Object(
    integers(
        *(
            f"{kind}_{part}"
            for kind in ("workflow", "activity", "session")
            for part in ("available", "capacity")
        )
    ),
    nullable=True,
)
WORKER_FIELDS: dict[str, Node] = {
    "worker_id": text(),
    "namespace": text(),
    **texts("task_queue", "runtime", "sdk_version", "build_id", "status"),
    **integers("max_concurrent_workflow_tasks", "max_concurrent_activity_tasks"),
    "task_slots": SLOTS,
    "last_heartbeat_at": text(null=True),
}
REQUIRED = ("namespace", "worker_id")

DESCRIBE = Document(
    "worker",
    "dw worker:describe --json",
    Object(
        {
            **WORKER_FIELDS,
            **integers("max_concurrent_worker_sessions", "heartbeat_interval_seconds"),
            "supported_workflow_types": Array(text(), nullable=True),
            "supported_activity_types": Array(text(), nullable=True),
            "process_metrics": Object(
                {
                    "cpu_percent": number(null=True),
                    **integers("memory_bytes", "process_uptime_seconds", "process_id"),
                    "host": text(null=True),
                },
                nullable=True,
            ),
            **texts("registered_at", "updated_at"),
        },
        required=REQUIRED,
    ),
)
LIST = Document(
    "worker-list",
    "dw worker:list --json",
    Object(
        {"namespace": text(), "workers": Array(Object(WORKER_FIELDS, required=REQUIRED))},
        required=("namespace", "workers"),
    ),
)
LIST_RECORD = record_of(LIST, "workers", name="worker-list-record", title="dw worker:list --output=jsonl")
OPERATION = Document(
    "worker-operation",
    "dw worker register/deregister --json",
    Object(
        {
            "worker_id": text(null=True),
            "registered": boolean(null=True),
            "acknowledged": boolean(null=True),
            "outcome": text(null=True),
            "heartbeat_interval_seconds": integer(null=True),
        }
    ),
    description="worker:register prints only a registration the server made (registered true).",
)

COMMANDS: dict[str, tuple[str, Document]] = {
    "worker:list": ("--json", LIST),
    "worker:describe": ("--json", DESCRIBE),
    "worker:register": ("--json", OPERATION),
    "worker:deregister": ("--json", OPERATION),
}
JSONL: dict[str, Document] = {"worker:list": LIST_RECORD}
