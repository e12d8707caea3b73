"""The documents the ``workflow:*`` commands print (``commands/workflow.py``, ``workflow_messages.py``).

Each is the server's answer as ``dw`` passes it through, with what ``dw`` adds: the resolved
``namespace``, the control-plane identity copied from the answer's ``control_plane`` block
(``views.contract_fields``), ids backfilled from the command's own arguments, and for
``workflow:update`` its diagnostics (``workflow_messages.update_document``).
"""

from __future__ import annotations

from .model import ANY, Array, Document, Node, Object, Typed, any_object, boolean, integer, record_of, text

AVRO = Typed(("string",), const="avro")
TIME = text(null=True)
ENVELOPE = Object(
    {"codec": AVRO, "blob": text()},
    required=("codec", "blob"),
    nullable=True,
)
# views.contract_fields: the answer's control_plane block, and its identity at the top level.
CONTRACT: dict[str, Node] = {
    "control_plane": any_object(null=True),
    "control_plane_schema": text(null=True),
    "control_plane_schema_version": integer(null=True),
    "control_plane_operation": text(null=True),
    "control_plane_version": text(null=True),
}
COMMAND_RESULT: dict[str, Node] = {
    "namespace": text(),
    "workflow_id": text(),
    "run_id": text(null=True),
    "requested_run_id": text(null=True),
    "resolved_run_id": text(null=True),
    "workflow_type": text(null=True),
    "outcome": text(),
    "command_status": text(null=True),
    "command_source": text(null=True),
    "command_id": text(null=True),
    "command_sequence": integer(null=True),
    "target_scope": text(null=True),
    "reason": text(null=True),
    "rejection_reason": text(null=True),
    "validation_errors": any_object(null=True),
    **CONTRACT,
}

START = Document(
    "workflow-start",
    "dw workflow:start --json",
    Object(
        {
            "namespace": text(),
            "workflow_id": text(),
            "run_id": text(null=True),
            "workflow_type": text(null=True),
            "business_key": text(null=True),
            "payload_codec": AVRO,
            "outcome": text(null=True),
            "command_status": text(null=True),
            "status": text(null=True),
            "status_bucket": text(null=True),
            "is_terminal": boolean(null=True),
            "output": ANY,
            **CONTRACT,
        },
        required=("namespace", "workflow_id"),
        alternatives=(("workflow_id", "run_id", "outcome"), ("workflow_id", "status")),
        depends={"input": ("payload_codec",)},
    ),
    description="The start answer; with --wait, the describe document of the closed run.",
)

RUN = Document(
    "workflow-run",
    "dw workflow:describe / workflow:show-run --json",
    Object(
        {
            "namespace": text(),
            "workflow_id": text(),
            "run_id": text(null=True),
            "workflow_type": text(null=True),
            "business_key": text(null=True),
            "status": text(null=True),
            "status_bucket": text(null=True),
            "is_terminal": boolean(null=True),
            "closed_reason": text(null=True),
            "task_queue": text(null=True),
            "run_number": integer(null=True),
            "run_count": integer(null=True),
            "is_current_run": boolean(null=True),
            "compatibility": text(null=True),
            "payload_codec": AVRO,
            "execution_timeout_seconds": integer(null=True),
            "run_timeout_seconds": integer(null=True),
            "execution_deadline_at": TIME,
            "run_deadline_at": TIME,
            "input": ANY,
            "output": ANY,
            "input_envelope": ENVELOPE,
            "output_envelope": ENVELOPE,
            "started_at": TIME,
            "closed_at": TIME,
            "last_progress_at": TIME,
            "wait_kind": text(null=True),
            "wait_reason": text(null=True),
            "waiting_on": any_object(null=True),
            "paused": boolean(null=True),
            "paused_at": TIME,
            "archived": boolean(null=True),
            "archived_at": TIME,
            "memo": Typed(("object", "array", "null")),
            "search_attributes": any_object(null=True),
            "actions": Object(nullable=True, values=boolean()),
            **CONTRACT,
        },
        required=("namespace", "workflow_id"),
        depends={"input": ("payload_codec",)},
    ),
)

LISTED_WORKFLOW = Object(
    {
        "namespace": text(),
        "workflow_id": text(),
        "run_id": text(null=True),
        "workflow_type": text(null=True),
        "business_key": text(null=True),
        "status": text(null=True),
        "status_bucket": text(null=True),
        "task_queue": text(null=True),
        "started_at": TIME,
        "closed_at": TIME,
    },
    required=("namespace", "workflow_id"),
)
LIST = Document(
    "workflow-list",
    "dw workflow:list --json",
    Object(
        {"namespace": text(), "workflows": Array(LISTED_WORKFLOW), "next_page_token": text(null=True)},
        required=("namespace", "workflows"),
    ),
)
LIST_RECORD = record_of(
    LIST, "workflows", name="workflow-list-record", title="dw workflow:list --output=jsonl"
)

LISTED_RUN = Object(
    {
        "namespace": text(),
        "run_id": text(),
        "run_number": integer(null=True),
        "workflow_type": text(null=True),
        "status": text(null=True),
        "status_bucket": text(null=True),
        "task_queue": text(null=True),
        "started_at": TIME,
        "closed_at": TIME,
    },
    required=("namespace", "run_id"),
)
RUNS = Document(
    "workflow-runs",
    "dw workflow:list-runs --json",
    Object(
        {
            "namespace": text(),
            "workflow_id": text(null=True),
            "run_count": integer(null=True),
            "runs": Array(LISTED_RUN),
        },
        required=("namespace", "runs"),
    ),
)
RUNS_RECORD = record_of(
    RUNS, "runs", name="workflow-run-list-record", title="dw workflow:list-runs --output=jsonl"
)

EVENT = Object(
    {
        "namespace": text(),
        "sequence": integer(null=True),
        "event_type": text(),
        "timestamp": TIME,
        "payload": ANY,
    },
    required=("namespace", "event_type"),
)
HISTORY = Document(
    "workflow-history",
    "dw workflow:history --json",
    Object(
        {
            "namespace": text(),
            "workflow_id": text(null=True),
            "run_id": text(null=True),
            "events": Array(EVENT),
        },
        required=("namespace", "events"),
    ),
    description="Every page merged: the events of all pages, without a next_page_token.",
)
HISTORY_RECORD = record_of(
    HISTORY, "events", name="workflow-history-record", title="dw workflow:history --output=jsonl"
)

EXPORT = Document(
    "workflow-history-export",
    "dw workflow:history-export",
    Object(
        {
            "namespace": text(),
            "schema": Typed(("string",), const="durable-workflow.v2.history-export"),
            "workflow": Object(
                {"instance_id": text(), "run_id": text(), "workflow_type": text(null=True)},
                required=("instance_id", "run_id"),
            ),
            "history_events": Array(
                Object(
                    {
                        "id": text(null=True),
                        "sequence": integer(),
                        "type": text(),
                        "recorded_at": TIME,
                        "payload": any_object(),
                    },
                    required=("sequence", "type", "payload"),
                )
            ),
        },
        required=("namespace", "schema", "workflow", "history_events"),
    ),
)

SIGNAL = Document(
    "workflow-signal",
    "dw workflow:signal --json",
    Object(
        {**COMMAND_RESULT, "signal_name": text(), "signal_id": text(null=True)},
        required=("namespace", "workflow_id", "signal_name", "outcome"),
    ),
)

QUERY = Document(
    "workflow-query",
    "dw workflow:query --json",
    Object(
        {
            "namespace": text(),
            "workflow_id": text(null=True),
            "run_id": text(null=True),
            "target_scope": text(null=True),
            "query_name": text(null=True),
            "result": ANY,
            "result_envelope": ENVELOPE,
            **CONTRACT,
        },
        required=("namespace", "result"),
    ),
)

HISTORY_REFERENCES = Object(
    {
        "workflow_sequence": integer(null=True),
        "command_sequence": integer(null=True),
        "accepted_at": TIME,
        "applied_at": TIME,
        "rejected_at": TIME,
        "closed_at": TIME,
    },
    nullable=True,
)
UPDATE_REQUEST = Object(
    {
        "workflow_id": text(),
        "run_id": text(null=True),
        "update_name": text(),
        "request_id": text(null=True),
        "wait_for": text(null=True),
        "input": ANY,
    },
    required=("workflow_id", "update_name"),
)
UPDATE = Document(
    "workflow-update",
    "dw workflow:update --json",
    Object(
        {
            **COMMAND_RESULT,
            "update_name": text(),
            "update_id": text(null=True),
            "request_id": text(null=True),
            "state": text(null=True),
            "update_state": text(null=True),
            "update_status": text(null=True),
            "rejection_category": text(null=True),
            "workflow_sequence": integer(null=True),
            "wait_for": text(null=True),
            "wait_timed_out": boolean(null=True),
            "wait_timeout_seconds": integer(null=True),
            "accepted_at": TIME,
            "applied_at": TIME,
            "rejected_at": TIME,
            "closed_at": TIME,
            "failure_id": text(null=True),
            "failure_message": text(null=True),
            "result": ANY,
            "result_envelope": ENVELOPE,
            "error_details": ANY,
            "payload": ANY,
            "request": UPDATE_REQUEST,
            "history_references": HISTORY_REFERENCES,
            "update_diagnostics": Object(
                {"request": UPDATE_REQUEST, "history_references": HISTORY_REFERENCES},
                required=("request",),
            ),
            "cli_fields": Object(
                {
                    "surface": Typed(("string",), const="workflow:update --json"),
                    "fields_present": Array(text()),
                    "state": text(null=True),
                    "outcome": text(),
                },
                required=("surface", "fields_present", "outcome"),
            ),
        },
        required=("namespace", "workflow_id", "update_name", "outcome", "update_diagnostics", "cli_fields"),
    ),
    description="The server's answer plus dw's update diagnostics (state, request, history references).",
)

OPERATION = Document(
    "workflow-operation",
    "dw workflow:cancel / terminate / repair / archive / pause / resume --json",
    Object(COMMAND_RESULT, required=("namespace", "workflow_id", "outcome")),
)

DOCUMENTS = (
    START,
    RUN,
    LIST,
    LIST_RECORD,
    RUNS,
    RUNS_RECORD,
    HISTORY,
    HISTORY_RECORD,
    EXPORT,
    SIGNAL,
    QUERY,
    UPDATE,
    OPERATION,
)
# command → (how its document is asked for, document); the jsonl records of list commands.
COMMANDS: dict[str, tuple[str, Document]] = {
    "workflow:start": ("--json", START),
    "workflow:list": ("--json", LIST),
    "workflow:describe": ("--json", RUN),
    "workflow:show-run": ("--json", RUN),
    "workflow:list-runs": ("--json", RUNS),
    "workflow:history": ("--json", HISTORY),
    "workflow:history-export": ("stdout-json", EXPORT),
    "workflow:signal": ("--json", SIGNAL),
    "workflow:query": ("--json", QUERY),
    "workflow:update": ("--json", UPDATE),
    **{
        f"workflow:{verb}": ("--json", OPERATION)
        for verb in ("cancel", "terminate", "repair", "archive", "pause", "resume")
    },
}
JSONL: dict[str, Document] = {
    "workflow:list": LIST_RECORD,
    "workflow:list-runs": RUNS_RECORD,
    "workflow:history": HISTORY_RECORD,
}
