"""The documents the ``schedule:*`` commands print (``commands/schedule.py``, ``schedule_actions.py``).

Each is the server's answer with the resolved ``namespace`` and the command's ``schedule_id``
filled in where the server left them out (``schedule.document``). ``schedule:history`` merges
the pages it read; with ``--all`` it has read them all (``has_more`` false, no cursor).
"""

from __future__ import annotations

from .model import (
    Array,
    Document,
    Node,
    Object,
    Typed,
    any_object,
    boolean,
    integer,
    objects,
    record_of,
    text,
    texts,
)

# The ids every schedule document carries.
IDS: dict[str, Node] = {"namespace": text(), "schedule_id": text()}
FIRES = texts("next_fire", "next_fire_at", "last_fire", "last_fire_at")

SCHEDULE = Document(
    "schedule",
    "dw schedule create/describe/update --json",
    Object(
        {
            **IDS,
            "workflow_type": text(null=True),
            **objects("spec", "action", "state", "search_attributes"),
            "overlap_policy": text(null=True),
            "paused": boolean(null=True),
            **FIRES,
            "fires_count": integer(null=True),
            "outcome": text(null=True),
        },
        required=tuple(IDS),
    ),
)

LISTED_SCHEDULE = Object(
    {
        **IDS,
        "status": text(null=True, enum=("active", "paused")),
        "workflow_type": text(null=True),
        "paused": boolean(null=True),
        **FIRES,
        "search_attributes": any_object(null=True),
        **texts("created_at", "updated_at"),
    },
    required=tuple(IDS),
)
LIST = Document(
    "schedule-list",
    "dw schedule:list --json",
    Object(
        {
            "namespace": text(),
            "schedules": Array(LISTED_SCHEDULE),
            "schedule_count": integer(minimum=0),
            "next_page_token": text(null=True),
        },
        required=("namespace", "schedules", "next_page_token"),
    ),
)
LIST_RECORD = record_of(
    LIST, "schedules", name="schedule-list-record", title="dw schedule:list --output=jsonl"
)

EVENT = Object(
    {
        "id": text(null=True),
        "sequence": integer(minimum=1),
        "namespace": text(),
        "event_type": text(null=True),
        "recorded_at": text(null=True),
        **texts("workflow_instance_id", "workflow_run_id"),
        "payload": Typed(("object", "array")),
    },
    required=("sequence", "namespace", "event_type"),
)
HISTORY = Document(
    "schedule-history",
    "dw schedule:history --json",
    Object(
        {
            **IDS,
            "events": Array(EVENT),
            "has_more": boolean(),
            "next_cursor": integer(null=True),
        },
        required=(*IDS, "events", "has_more", "next_cursor"),
    ),
    description="The pages read merged; with --all every page, so has_more is false.",
)
HISTORY_RECORD = record_of(
    HISTORY, "events", name="schedule-history-record", title="dw schedule:history --output=jsonl"
)

OPERATION = Document(
    "schedule-operation",
    "dw schedule delete/pause/resume/backfill --json",
    Object(
        {
            **IDS,
            **texts("outcome", "note", "backfill_id"),
            "accepted": boolean(null=True),
            "fires_attempted": integer(null=True, minimum=0),
            "results": Array(any_object(), nullable=True),
        },
        required=tuple(IDS),
    ),
    description="A backfill split into windows sums fires_attempted and joins the windows' results.",
)
TRIGGER = Document(
    "schedule-trigger",
    "dw schedule:trigger --json",
    Object(
        {
            **IDS,
            "outcome": text(),
            **texts("workflow_id", "run_id", "reason"),
            "buffer_depth": integer(null=True),
        },
        required=(*IDS, "outcome"),
    ),
)

COMMANDS: dict[str, tuple[str, Document]] = {
    **{f"schedule:{verb}": ("--json", SCHEDULE) for verb in ("create", "describe", "update")},
    **{f"schedule:{verb}": ("--json", OPERATION) for verb in ("delete", "pause", "resume", "backfill")},
    "schedule:list": ("--json", LIST),
    "schedule:history": ("--json", HISTORY),
    "schedule:trigger": ("--json", TRIGGER),
}
JSONL: dict[str, Document] = {"schedule:list": LIST_RECORD, "schedule:history": HISTORY_RECORD}
