"""The document of ``bridge:webhook`` (``commands/bridge.py``): the adapter's outcome as the
server answers it (``durable-workflow.v2.bridge-adapter-outcome.contract`` version 1).
"""

from __future__ import annotations

from .model import Document, Object, Typed, any_object, boolean, text

ACTIONS = ("start_workflow", "signal_workflow", "update_workflow", "handoff_external_task")

OUTCOME = Document(
    "bridge-adapter-outcome",
    "dw bridge:webhook --json",
    Object(
        {
            "schema": text(const="durable-workflow.v2.bridge-adapter-outcome.contract"),
            "version": Typed(("integer",), const=1),
            "adapter": text(),
            "action": text(enum=ACTIONS),
            "accepted": boolean(),
            "outcome": text(enum=("accepted", "duplicate", "rejected")),
            "idempotency_key": text(),
            "target": any_object(),
            **dict.fromkeys(
                (
                    "reason",
                    "control_plane_outcome",
                    "workflow_id",
                    "run_id",
                    "command_id",
                    "command_status",
                    "request_id",
                ),
                text(),
            ),
        },
        required=("schema", "version", "adapter", "action", "accepted", "outcome", "idempotency_key"),
    ),
    description="A rejected event is an outcome too (accepted false, with its reason).",
)

COMMANDS: dict[str, tuple[str, Document]] = {"bridge:webhook": ("--json", OUTCOME)}
JSONL: dict[str, Document] = {}
