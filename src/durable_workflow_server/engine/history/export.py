"""The history export bundle of one run, with its integrity checksum (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from durable_workflow.protocol import codec as payload_codec
from durable_workflow.protocol.history import is_terminal
from durable_workflow.protocol.payload_storage import ExternalStorageEnvelope
from durable_workflow.protocol.versions import HISTORY_EXPORT_SCHEMA

from ...store.rows import (
    ActivityExecutionRow,
    HistoryEventRow,
    InstanceRow,
    RunRow,
    TimerRow,
    WorkflowTaskRow,
)
from ..external_storage.stored import reference_of
from ..rendering import bad_events, bad_fields, renderable, unrenderable_run
from ..shapes import ExportedFailure, HistoryExportBundle
from ..util import canonical_json, rfc3339, sha256_hex
from . import events as h


def _data(blob: str | None) -> str | ExternalStorageEnvelope | None:
    """A run payload as exported: the blob, or the reference envelope of an offloaded one."""
    reference = reference_of(blob)
    return reference.envelope() if reference is not None else blob


def _codec_schemas() -> dict[str, Any]:
    wrapper = payload_codec.GENERIC_WRAPPER_SCHEMA_JSON
    typed = json.dumps(payload_codec.VALUE_V1_SCHEMA, separators=(",", ":"))
    return {
        "avro": {
            "encoding": "base64-avro-binary",
            "wrapper_schema": wrapper,
            "wrapper_prefix_hex": "00",
            "typed_prefix_hex": "01",
            "generic_wrapper": {
                "prefix_hex": "00",
                "writer_schema": wrapper,
                "writer_schema_fingerprint": "sha256:" + sha256_hex(wrapper),
            },
            "typed_schema": {
                "prefix_hex": "c301",
                "writer_schema": typed,
                "writer_schema_fingerprint": "sha256:" + sha256_hex(typed),
                "single_object_fingerprint_hex": payload_codec.VALUE_V1_FINGERPRINT.hex(),
            },
        }
    }


def export_bundle(
    *,
    run: RunRow,
    instance: InstanceRow,
    events: Sequence[HistoryEventRow],
    tasks: Sequence[WorkflowTaskRow],
    activities: Sequence[ActivityExecutionRow],
    timers: Sequence[TimerRow],
    exported_at: datetime,
) -> HistoryExportBundle:
    """The history export bundle with its integrity block (see docs/protocol.md)."""
    status = run["status"]
    output_codec = run["output_codec"] or run["payload_codec"]
    history_events = [h.export_event(e) for e in events]
    failures: list[ExportedFailure] = [
        {
            "id": e["payload"].get("failure_id"),
            "type": e["event_type"],
            "sequence": e["sequence"],
            "message": e["payload"].get("message"),
            "exception_class": e["payload"].get("exception_class"),
            "failure_category": e["payload"].get("failure_category"),
        }
        for e in events
        if e["event_type"] in ("WorkflowFailed", "ActivityFailed")
    ]
    bundle: HistoryExportBundle = {
        "schema": HISTORY_EXPORT_SCHEMA,
        "schema_version": 1,
        "exported_at": rfc3339(exported_at),
        "dedupe_key": f"{run['workflow_id']}:{run['run_id']}:{run['last_history_sequence']}",
        "history_complete": is_terminal(status),
        "workflow": {
            "instance_id": run["workflow_id"],
            "run_id": run["run_id"],
            "run_number": run["run_number"],
            "is_current_run": instance["current_run_id"] == run["run_id"],
            "current_run_id": instance["current_run_id"],
            "current_run_source": "instance",
            "workflow_type": run["workflow_type"],
            "workflow_class": run["workflow_type"],
            "business_key": run["business_key"],
            "visibility_labels": {},
            "memo": dict(run["memo"] or {}),
            "search_attributes": dict(run["search_attributes"] or {}),
            "status": status,
            "status_bucket": h.bucket(status),
            "closed_reason": run["closed_reason"],
            "archived_at": None,
            "archive_command_id": None,
            "archive_reason": None,
            "compatibility": None,
            "connection": None,
            "queue": run["task_queue"],
            "last_history_sequence": run["last_history_sequence"],
            "started_at": rfc3339(run["started_at"]),
            "closed_at": rfc3339(run["closed_at"]),
            "last_progress_at": rfc3339(run["last_progress_at"]),
        },
        "payloads": {
            "codec": run["payload_codec"],
            "arguments": {"available": run["input_blob"] is not None, "data": _data(run["input_blob"])},
            "output": {"available": run["output_blob"] is not None, "data": _data(run["output_blob"])},
        },
        "summary": {
            "history_event_count": len(history_events),
            "activity_count": len(activities),
            "timer_count": len(timers),
            "task_count": len(tasks),
            "failure_count": len(failures),
        },
        "selected_run": {"run_id": run["run_id"], "run_number": run["run_number"], "selection": "explicit"},
        "history_events": history_events,
        "waits": [],
        "timeline": [
            {"sequence": e["sequence"], "type": e["type"], "recorded_at": e["recorded_at"]}
            for e in history_events
        ],
        "linked_intakes_scope": "run",
        "linked_intakes": [],
        "commands": [],
        "signals": [],
        "updates": [],
        "tasks": [
            {
                "id": r["task_id"],
                "type": "workflow",
                "status": r["status"],
                "queue": r["task_queue"],
                "attempt_count": r["attempt_count"],
                "available_at": rfc3339(r["available_at"]),
                "lease_owner": r["lease_owner"],
                "lease_expires_at": rfc3339(r["lease_expires_at"]),
            }
            for r in tasks
        ],
        "activities": [
            {
                "id": r["activity_execution_id"],
                "sequence": r["sequence"],
                "activity_type": r["activity_type"],
                "status": r["status"],
                "attempt_count": r["attempt_count"],
                "queue": r["task_queue"],
                "retry_policy": r["retry_policy"],
                "scheduled_at": rfc3339(r["scheduled_at"]),
                "closed_at": rfc3339(r["closed_at"]),
            }
            for r in activities
        ],
        "timers": [
            {
                "id": r["timer_id"],
                "sequence": r["sequence"],
                "status": r["status"],
                "delay_seconds": r["delay_seconds"],
                "fire_at": rfc3339(r["fire_at"]),
                "fired_at": rfc3339(r["fired_at"]),
            }
            for r in timers
        ],
        "failures": failures,
        "links": {"projection_source": "workflow_runs", "parents": [], "children": []},
        "redaction": {"applied": False, "policy": None, "paths": []},
        "codec_schemas": _codec_schemas(),
        "payload_manifest": {"version": 1, "entries": []},
    }
    if output_codec and run["output_blob"] is not None:
        bundle["payloads"]["output"]["codec"] = output_codec
    bad = bad_fields(bundle["workflow"], ("memo", "search_attributes"))
    bad += bad_events(history_events)
    bad += ["activities"] if not renderable(bundle["activities"]) else []
    if bad:
        raise unrenderable_run(run["workflow_id"], run["run_id"], bad)
    bundle["integrity"] = {
        "canonicalization": "json-recursive-ksort-v1",
        "checksum_algorithm": "sha256",
        "checksum": sha256_hex(canonical_json(bundle)),
        "signature_algorithm": None,
        "signature": None,
        "key_id": None,
    }
    return bundle
