"""The documents of the worker-plane diagnostics: ``workflow-task:*``, ``query-task:*`` and
``activity:complete`` / ``activity:fail`` (``commands/worker_tasks.py``, ``commands/activity.py``).

A poll prints ``{task}`` (``null`` when none was leased); the others print the server's answer.
An answer the server did not record (a fenced or settled task) is a document, not an error.
"""

from __future__ import annotations

from .model import ANY, Array, Document, Node, Object, any_object, boolean, integer, text, texts

PROTOCOL: dict[str, Node] = {"protocol_version": text(null=True)}
RESULT: dict[str, Node] = {
    "outcome": text(null=True),
    "recorded": boolean(null=True),
    "reason": text(null=True),
}


def _poll(name: str, title: str, task: dict[str, Node]) -> Document:
    return Document(
        name,
        title,
        Object({"task": Object(task, nullable=True), **PROTOCOL}, required=("task",)),
        description="task is null when no task was available.",
    )


WORKFLOW_TASK_POLL = _poll(
    "workflow-task-poll",
    "dw workflow-task:poll --json",
    {
        **texts(
            "task_id", "workflow_id", "run_id", "workflow_type", "lease_owner", "next_history_page_token"
        ),
        "workflow_task_attempt": integer(null=True),
        "history_events": Array(ANY, nullable=True),
    },
)
WORKFLOW_TASK_HISTORY = Document(
    "workflow-task-history",
    "dw workflow-task:history --json",
    Object(
        {
            "history_events": Array(
                Object(
                    {
                        **{key: integer(null=True) for key in ("event_id", "sequence")},
                        "event_type": text(),
                        "timestamp": text(null=True),
                        "payload": ANY,
                    },
                    required=("event_type",),
                )
            ),
            "total_history_events": integer(null=True),
            "next_history_page_token": text(null=True),
            **PROTOCOL,
        },
        required=("history_events",),
    ),
)
WORKFLOW_TASK_RESULT = Document(
    "workflow-task-result",
    "dw workflow-task:complete/fail --json",
    Object(
        {
            "task_id": text(),
            "workflow_task_attempt": integer(),
            **RESULT,
            **texts("run_id", "run_status"),
            "created_task_ids": Array(ANY, nullable=True),
            **PROTOCOL,
        },
        required=("task_id", "workflow_task_attempt"),
    ),
)

QUERY_TASK_POLL = _poll(
    "query-task-poll",
    "dw query-task:poll --json",
    {
        **texts("query_task_id", "workflow_id", "run_id", "query_name", "lease_owner"),
        "query_task_attempt": integer(null=True),
        "input": any_object(null=True),
    },
)
QUERY_TASK_RESULT = Document(
    "query-task-result",
    "dw query-task:complete/fail --json",
    Object(
        {"query_task_id": text(), "query_task_attempt": integer(), "outcome": text(null=True), **PROTOCOL},
        required=("query_task_id", "query_task_attempt"),
    ),
)

FAILURE_KINDS = (
    "application",
    "timeout",
    "cancellation",
    "malformed_output",
    "handler_crash",
    "decode_failure",
    "unsupported_payload",
)
TIMEOUT_TYPES = ("schedule_to_start", "start_to_close", "schedule_to_close", "heartbeat", "deadline_exceeded")
NOT_RECORDED = ("attempt_not_found", "run_cancelled", "run_terminated", "stale_attempt")
FLAG = boolean(null=True)
ACTIVITY_TASK_RESULT = Document(
    "activity-task-result",
    "dw activity complete/fail --json",
    Object(
        {
            "task_id": text(),
            "activity_attempt_id": text(),
            "outcome": text(null=True, enum=("completed", "failed", "ignored")),
            "recorded": boolean(null=True),
            "reason": text(null=True, enum=NOT_RECORDED),
            "next_task_id": text(null=True),
            "result": ANY,
            "failure": Object(
                {
                    **texts("message", "type"),
                    "kind": text(null=True, enum=FAILURE_KINDS),
                    **dict.fromkeys(("retryable", "non_retryable", "cancelled", "malformed_output"), FLAG),
                    "timeout_type": text(null=True, enum=TIMEOUT_TYPES),
                    "details": ANY,
                },
                nullable=True,
            ),
        },
        required=("task_id", "activity_attempt_id"),
    ),
)

COMMANDS: dict[str, tuple[str, Document]] = {
    "workflow-task:poll": ("--json", WORKFLOW_TASK_POLL),
    "workflow-task:history": ("--json", WORKFLOW_TASK_HISTORY),
    "workflow-task:complete": ("--json", WORKFLOW_TASK_RESULT),
    "workflow-task:fail": ("--json", WORKFLOW_TASK_RESULT),
    "query-task:poll": ("--json", QUERY_TASK_POLL),
    "query-task:complete": ("--json", QUERY_TASK_RESULT),
    "query-task:fail": ("--json", QUERY_TASK_RESULT),
    "activity:complete": ("--json", ACTIVITY_TASK_RESULT),
    "activity:fail": ("--json", ACTIVITY_TASK_RESULT),
}
JSONL: dict[str, Document] = {}
