"""The document of ``dw debug workflow`` (``commands/debug.py``): the server's debug view of a run
(control-plane.md §8.3.6) with the resolved ``namespace`` and the control-plane identity fields.
"""

from __future__ import annotations

from .model import Array, Document, Object, any_object, text
from .workflow import CONTRACT

FINDING = Object(
    {"severity": text(enum=("error", "warning", "info")), "code": text(), "message": text()},
    required=("severity", "code", "message"),
)
DEBUG = Document(
    "workflow-debug",
    "dw debug workflow --json",
    Object(
        {
            "generated_at": text(null=True),
            "workflow_id": text(),
            "run_id": text(),
            "namespace": text(),
            "diagnostic_status": text(
                enum=("terminal", "needs_attention", "queue_backlog", "pending_work", "running", "waiting")
            ),
            "execution": any_object(),
            "pending_workflow_tasks": Array(any_object()),
            "pending_activities": Array(any_object()),
            "task_queue": any_object(null=True),
            "recent_failures": Array(any_object()),
            "compatibility": any_object(null=True),
            "findings": Array(FINDING),
            **CONTRACT,
        },
        required=("workflow_id", "run_id", "namespace", "diagnostic_status", "execution"),
    ),
)
COMMANDS: dict[str, tuple[str, Document]] = {"debug": ("--json", DEBUG)}
JSONL: dict[str, Document] = {}
