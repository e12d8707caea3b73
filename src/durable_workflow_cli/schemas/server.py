"""The documents of ``server:health`` and ``server:info`` (alias ``cluster:info``), both asked for
with ``--output=json``: the server's answers as ``dw`` reads them (``commands/cluster.py``).

``server:info`` describes the server's capabilities, compatibility, topology, coordination
health and protocols; only the fields tools read are declared, the rest pass through.
"""

from __future__ import annotations

from .model import Array, Document, Node, Object, Typed, boolean, integer, objects, text, texts

VERSION = Typed(("string", "integer", "null"))
NAMES = Array(text(), nullable=True)
# The role of the task-matching process, shared with system:operator-metrics.
MATCHING_ROLE: dict[str, Node] = {
    "queue_wake_enabled": boolean(null=True),
    **texts("shape", "task_dispatch_mode", "backpressure_model"),
    "partition_primitives": NAMES,
}

HEALTH = Document(
    "server-health",
    "dw server:health --output=json",
    Object(
        {
            "status": text(),
            "timestamp": text(),
            "checks": Object(values=Typed(("string", "boolean", "number", "object", "array", "null"))),
        },
        required=("status", "timestamp"),
    ),
    description="The server's health probe; dw exits 0 even when a check is unhealthy.",
)

INFO = Document(
    "server-info",
    "dw server:info --output=json",
    Object(
        {
            **texts("server_id", "version", "default_namespace"),
            "capabilities": Object(),
            "limits": Object(values=Typed(("integer", "number", "string", "null"))),
            "client_compatibility": Object(
                {**texts("authority", "top_level_version_role"), "fail_closed": boolean(null=True)}
            ),
            "control_plane": Object(
                {
                    "version": VERSION,
                    "header": text(null=True),
                    **objects("response_contract", "request_contract"),
                }
            ),
            "topology": Object(
                {
                    "schema": text(null=True),
                    "version": VERSION,
                    "supported_shapes": NAMES,
                    **texts("current_shape", "current_process_class", "execution_mode"),
                    "current_roles": NAMES,
                    "matching_role": Object({**MATCHING_ROLE, "wake_owner": text(null=True)}, nullable=True),
                }
            ),
            "coordination_health": Object(
                {
                    **texts("schema", "namespace_scope", "status", "generated_at"),
                    "version": VERSION,
                    "http_status": integer(null=True),
                    "categories": Typed(("object", "array", "null")),
                    "warning_checks": NAMES,
                    "error_checks": NAMES,
                    "checks": Array(Object(texts("name", "status", "category", "message")), nullable=True),
                }
            ),
            "worker_protocol": Object({"version": VERSION, **objects("server_capabilities")}),
            "worker_fleet": Object(
                {
                    "namespace": text(null=True),
                    "active_workers": integer(null=True),
                    "active_worker_scopes": integer(null=True),
                    "build_ids": Array(text()),
                    "queues": Array(text()),
                }
            ),
        },
        required=("server_id", "version"),
    ),
)

COMMANDS: dict[str, tuple[str, Document]] = {
    "server:health": ("--output=json", HEALTH),
    "server:info": ("--output=json", INFO),
}
JSONL: dict[str, Document] = {}
