"""Static protocol manifests the server advertises.

These are documents clients check before they talk to us (SDK 0.4.84's ``Worker.run()`` refuses
a server whose manifests do not pass its compatibility checks), so their values are wire facts
and are spelled exactly as the contract documents them. Prose fields are our own words.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import commands, versions
from durable_workflow.protocol.capabilities import (
    ROUND_TRIP_EXTENSIONS,
    SERVER_STICKY_WORKFLOW_TASKS,
    SERVER_WORKFLOW_PAUSE,
    SERVER_WORKFLOW_RESULT_WAIT,
)

from ..settings import Settings

CONTRACT_VERSION = 1

# Top-level fields of a workflow-operation response that are copied into its ``control_plane``
# block, in this order (the response contract).
PROJECTED_FIELDS: tuple[str, ...] = (
    "run_id", "workflow_type", "namespace", "business_key", "status", "status_bucket", "is_terminal",
    "task_queue", "run_number", "run_count", "workflow_count", "is_current_run", "compatibility",
    "started_at", "closed_at", "last_progress_at", "wait_kind", "wait_reason", "next_page_token",
    "command_id", "command_status", "command_source", "target_scope", "outcome", "reason",
    "rejection_reason", "validation_errors", "result", "result_envelope", "update_id", "update_status",
    "wait_for", "wait_timed_out", "wait_timeout_seconds", "blocked_reason", "message", "diagnostic_status",
)  # fmt: skip

LEGACY_FIELDS = {
    "query": "query_name",
    "signal": "signal_name",
    "update": "update_name",
    "wait_policy": "wait_for",
}

# operation → (operation_name_field, required_fields, success_fields)
OPERATIONS: dict[str, tuple[str | None, list[str], list[str]]] = {
    "list": (None, [], []),
    "start": (None, [], ["workflow_id", "outcome"]),
    "describe": (None, ["workflow_id"], []),
    "list_runs": (None, ["workflow_id"], []),
    "describe_run": (None, ["workflow_id"], ["run_id"]),
    "debug_workflow": (None, ["workflow_id"], ["run_id", "diagnostic_status"]),
    "history": (None, ["workflow_id", "run_id"], ["next_page_token"]),
    "signal": ("signal_name", ["workflow_id", "operation_name", "operation_name_field"], ["outcome"]),
    "query": ("query_name", ["workflow_id", "operation_name", "operation_name_field"], ["result"]),
    "update": ("update_name", ["workflow_id", "operation_name", "operation_name_field"], ["outcome"]),
    "cancel": (None, ["workflow_id"], ["outcome"]),
    "terminate": (None, ["workflow_id"], ["outcome"]),
    "repair": (None, ["workflow_id"], ["outcome"]),
    "archive": (None, ["workflow_id"], ["outcome"]),
    "pause": (None, ["workflow_id"], ["outcome"]),
    "resume": (None, ["workflow_id"], ["outcome"]),
}

START_UNSUPPORTED_FIELDS = (
    "workflow_execution_timeout",
    "workflow_run_timeout",
    "workflow_task_timeout",
    "retry_policy",
    "idempotency_key",
    "request_id",
)
LIST_STATUS_VALUES = ("running", "completed", "failed")
LIST_STATUS_ALIASES = {
    "cancelled": "failed",
    "terminated": "failed",
    "pending": "running",
    "waiting": "running",
}
DUPLICATE_POLICIES = ("fail", "use-existing")
DUPLICATE_POLICY_ALIASES = {"use_existing": "use-existing"}

_EXTERNAL_CONTRACTS = {
    "external_execution_surface": "durable-workflow.v2.external-execution-surface.contract",
    "external_executor_config": "durable-workflow.v2.external-executor-config.contract",
    "invocable_carrier": "durable-workflow.v2.invocable-carrier.contract",
    "external_task_input": "durable-workflow.v2.external-task-input.contract",
    "external_task_result": "durable-workflow.v2.external-task-result.contract",
}


def response_contract() -> dict[str, Any]:
    """``control_plane.response_contract`` (static)."""
    return {
        "schema": versions.RESPONSE_SCHEMA,
        "version": CONTRACT_VERSION,
        "contract": contract_descriptor(),
        "projected_fields": list(PROJECTED_FIELDS),
        "operations": {
            name: {"operation_name_field": field, "required_fields": list(req), "success_fields": list(ok)}
            for name, (field, req, ok) in OPERATIONS.items()
        },
    }


def contract_descriptor() -> dict[str, Any]:
    """The ``contract`` object shared by the response manifest and every ``control_plane`` block."""
    return {
        "schema": versions.RESPONSE_CONTRACT_SCHEMA,
        "version": CONTRACT_VERSION,
        "legacy_field_policy": "reject_non_canonical",
        "legacy_fields": dict(LEGACY_FIELDS),
    }


def request_contract() -> dict[str, Any]:
    """``control_plane.request_contract``."""
    return {
        "schema": versions.REQUEST_CONTRACT_SCHEMA,
        "version": versions.REQUEST_CONTRACT_VERSION,
        "operations": {
            "list": {
                "fields": {
                    "status": {
                        "canonical_values": list(LIST_STATUS_VALUES),
                        "rejected_aliases": dict(LIST_STATUS_ALIASES),
                    }
                }
            },
            "start": {
                "fields": {
                    "duplicate_policy": {
                        "canonical_values": list(DUPLICATE_POLICIES),
                        "rejected_aliases": dict(DUPLICATE_POLICY_ALIASES),
                    },
                    "execution_timeout_seconds": {"type": "integer", "min": 1},
                    "run_timeout_seconds": {"type": "integer", "min": 1},
                    "payload_codec": {
                        "type": "string",
                        "canonical_values": ["avro"],
                        "description": "Informational: the codec is taken from the input envelope; "
                        "plain JSON input is stored as avro.",
                    },
                },
                "unsupported_fields": list(START_UNSUPPORTED_FIELDS),
            },
            "update": {
                "fields": {"wait_for": {"canonical_values": ["accepted", "completed"]}},
                "removed_fields": {"wait_policy": "Send wait_for (accepted or completed) instead."},
            },
        },
    }


def control_plane_manifest() -> dict[str, Any]:
    return {
        "version": versions.CONTROL_PLANE_VERSION,
        "header": versions.CONTROL_PLANE_HEADER,
        "response_contract": response_contract(),
        "request_contract": request_contract(),
    }


def auth_composition_contract() -> dict[str, Any]:
    """``auth_composition_contract`` (SDK 0.4.84 validates it)."""
    source = "one_of_source_values"
    return {
        "schema": versions.AUTH_COMPOSITION_SCHEMA,
        "version": versions.AUTH_COMPOSITION_VERSION,
        "scope": "external_execution_carriers",
        "unknown_field_policy": "ignore_additive_reject_unknown_required",
        "precedence": {
            "connection_values": ["flag", "environment", "selected_profile", "default"],
            "profile_selection": ["flag_env", "DW_ENV", "current_profile", "default_profile"],
            "notes": [
                "An explicit flag beats every other source for the same value.",
                "Environment variables beat values stored in the selected profile.",
                "The profile is chosen by flag, then DW_ENV, then the current profile, then the default one.",
                "Built-in defaults apply only when no other source supplies a value.",
            ],
        },
        "canonical_environment": {
            "server_url": "DURABLE_WORKFLOW_SERVER_URL",
            "namespace": "DURABLE_WORKFLOW_NAMESPACE",
            "auth_token": "DURABLE_WORKFLOW_AUTH_TOKEN",
            "tls_verify": "DURABLE_WORKFLOW_TLS_VERIFY",
            "profile": "DW_ENV",
        },
        "auth_material": {
            "token": {
                "status": "supported",
                "transport": "bearer_authorization_header",
                "persisted_as": "secret_reference_or_profile_env_reference",
                "effective_config_value": "redacted",
            },
            "mtls": {
                "status": "reserved",
                "persisted_as": "certificate_and_key_references",
                "effective_config_value": "references_only",
            },
            "signed_headers": {
                "status": "reserved",
                "persisted_as": "key_reference_and_header_allowlist",
                "effective_config_value": "references_only",
            },
            "extensions": {
                "status": "reserved",
                "rule": "New kinds of auth material arrive as new keys; clients ignore unknown keys.",
            },
        },
        "effective_config": {
            "required_fields": ["server_url", "namespace", "profile", "auth", "tls", "identity"],
            "source_values": ["flag", "environment", "selected_profile", "profile_env", "default", "server"],
            "field_contracts": {
                "server_url": {"value": "normalized_absolute_url", "source": source},
                "namespace": {"value": "non_empty_namespace_name", "source": source},
                "profile": {
                    "name": "nullable_string",
                    "source": "flag_env_or_DW_ENV_or_current_profile_or_default_profile",
                },
                "auth": {
                    "type": "token_or_mtls_or_signed_headers_or_none",
                    "source": source,
                    "value": "redacted_or_reference_only",
                },
                "tls": {"verify": "boolean", "source": source},
                "identity": {
                    "subject": "nullable_string",
                    "roles": "list_of_strings",
                    "source": "server_or_carrier",
                },
            },
        },
        "redaction": {
            "never_echo": [
                "bearer_tokens",
                "private_keys",
                "shared_signature_keys",
                "client_certificate_private_key_material",
                "raw_authorization_headers",
            ],
            "allowed_diagnostics": [
                "redacted",
                "secret_reference_name",
                "environment_variable_name",
                "profile_name",
                "certificate_reference_name",
                "key_reference_name",
            ],
        },
        "resolution": {
            "server_url": "First source in connection precedence with a URL; trailing slash removed.",
            "namespace": "First source that supplies a namespace, else the server's default namespace.",
            "identity": "The server derives the caller's roles from the presented credential.",
            "tls": "Verify certificates unless a source explicitly disables verification.",
        },
    }


def client_compatibility() -> dict[str, Any]:
    """``client_compatibility``."""
    worker_requires = {
        f"{name}_contract": {"schema": schema, "version": 1} for name, schema in _EXTERNAL_CONTRACTS.items()
    }
    return {
        "schema": "durable-workflow.v2.client-compatibility",
        "version": 1,
        "authority": "protocol_manifests",
        "top_level_version_role": "informational",
        "fail_closed": True,
        "required_protocols": {
            "auth_composition": {
                "schema": versions.AUTH_COMPOSITION_SCHEMA,
                "version": versions.AUTH_COMPOSITION_VERSION,
            },
            "control_plane": {
                "version": versions.CONTROL_PLANE_VERSION,
                "header": versions.CONTROL_PLANE_HEADER,
                "request_contract": {
                    "schema": versions.REQUEST_CONTRACT_SCHEMA,
                    "version": versions.REQUEST_CONTRACT_VERSION,
                },
            },
            "worker_protocol": {
                "version": versions.WORKER_PROTOCOL_VERSION,
                "header": versions.WORKER_PROTOCOL_HEADER,
                **worker_requires,
            },
        },
        "clients": {
            "cli": {
                "supported_versions": ">=0.1,<1.0",
                "requires": [
                    "auth_composition.version",
                    "control_plane.version",
                    "control_plane.request_contract",
                ],
            },
            "sdk-python": {
                "supported_versions": ">=0.2,<1.0",
                "requires": [
                    "auth_composition.version",
                    "control_plane.version",
                    "control_plane.request_contract",
                    "worker_protocol.version",
                    *(f"worker_protocol.{name}_contract" for name in _EXTERNAL_CONTRACTS),
                ],
            },
        },
    }


def response_compression(settings: Settings) -> list[str]:
    # Starlette's GZipMiddleware speaks gzip only, so that is all we advertise.
    return ["gzip"] if settings.compression_enabled else []


def server_capabilities(settings: Settings) -> dict[str, Any]:
    """``server_capabilities`` of every worker-plane response and of ``worker_protocol``."""
    return {
        "long_poll_timeout": _number(settings.long_poll_timeout),
        "supported_workflow_task_commands": list(commands.SUPPORTED_COMMANDS),
        "workflow_task_poll_request_idempotency": True,
        "history_page_size_default": settings.history_page_size_default,
        "history_page_size_max": settings.history_page_size_max,
        # Queries are answered by workers through /worker/query-tasks/* (see engine/queries/).
        "query_tasks": True,
        "activity_retry_policy": True,
        "activity_timeouts": True,
        "child_workflow_retry_policy": True,
        "child_workflow_timeouts": True,
        "parent_close_policy": True,
        "non_retryable_failures": True,
        # An extension (docs/protocol.md, "Sticky workflow tasks"): `sticky` completions.
        SERVER_STICKY_WORKFLOW_TASKS: True,
        "response_compression": response_compression(settings),
        # Worker history pages are always sent uncompressed for now.
        "history_compression": {"supported_encodings": [], "compression_threshold": 50},
        **{name: {"schema": schema, "version": 1} for name, schema in _EXTERNAL_CONTRACTS.items()},
    }


def worker_protocol(settings: Settings) -> dict[str, Any]:
    """``worker_protocol`` block of ``/cluster/info``."""
    manifests: dict[str, Any] = {
        f"{name}_contract": {"schema": schema, "version": 1} for name, schema in _EXTERNAL_CONTRACTS.items()
    }
    manifests["external_executor_config_contract"]["runtime"] = {
        "configured": False,
        "status": "not_configured",
        "source": None,
        "overlay": None,
        "summary": {"carriers": 0, "mappings": 0},
        "errors": [],
    }
    return {
        "version": versions.WORKER_PROTOCOL_VERSION,
        "server_capabilities": server_capabilities(settings),
        **manifests,
    }


def capabilities(settings: Settings) -> dict[str, Any]:
    """``capabilities`` block (informational; the SDK reads none of it)."""
    flags = [
        *("workflow_tasks", "activity_tasks", "signals", "queries", "updates", "schedules"),
        *("schedule_jitter", "schedule_max_runs", "search_attributes", "history_export"),
        *("continue_as_new", "child_workflows", "activity_timeouts", "activity_retry_policy"),
        *("child_workflow_retry_policy", "child_workflow_timeouts", "parent_close_policy"),
        *("non_retryable_failures", "history_retention", "payload_codec_envelope"),
        *("payload_codec_envelope_responses", "bridge_adapter_outcome_contract"),
        *("external_executor_config_contract", "invocable_carrier_contract"),
    ]
    result: dict[str, Any] = dict.fromkeys(flags, True)
    # An extension of the contract: POST /workflows/{id}/pause and /resume.
    result[SERVER_WORKFLOW_PAUSE] = True
    # An extension: GET /workflows/{id}?wait_seconds=N waits for the run's close.
    result[SERVER_WORKFLOW_RESULT_WAIT] = True
    # Extensions that save round trips (eager hand-outs of tasks; see docs/protocol.md).
    result.update(dict.fromkeys(ROUND_TRIP_EXTENSIONS, True))
    result[SERVER_STICKY_WORKFLOW_TASKS] = True
    result["payload_codecs"] = ["avro"]
    result["response_compression"] = response_compression(settings)
    return result


def limits(settings: Settings) -> dict[str, Any]:
    return {
        "max_payload_bytes": settings.max_payload_bytes,
        "max_memo_bytes": settings.max_memo_bytes,
        "max_search_attributes": 100,
        "max_search_attribute_key_length": 128,
        "max_search_attribute_value_bytes": 2048,
        "max_operation_name_length": 256,
        "max_pending_activities": 2000,
        "max_pending_children": 2000,
    }


def structural_limits(settings: Settings) -> dict[str, Any]:
    return {
        "pending_activity_count": 2000,
        "pending_child_count": 1000,
        "pending_timer_count": 2000,
        "pending_signal_count": 5000,
        "pending_update_count": 500,
        "command_batch_size": 1000,
        "payload_size_bytes": settings.max_payload_bytes,
        "memo_size_bytes": settings.max_memo_bytes,
        "search_attribute_size_bytes": 40960,
        "history_transaction_size": 5000,
        "warning_threshold_percent": 80,
    }


def task_repair() -> dict[str, Any]:
    # Repair here is the engine's due-time loop; this block reports its policy. The counters are
    # zero because expired leases are reclaimed inline instead of being queued as candidates.
    return {
        "policy": {
            "redispatch_after_seconds": 3,
            "loop_throttle_seconds": 5,
            "scan_limit": 25,
            "scan_strategy": "scope_fair_round_robin",
            "failure_backoff_max_seconds": 60,
            "failure_backoff_strategy": "exponential_by_repair_count",
        },
        "candidates": {
            "existing_task_candidates": 0,
            "missing_task_candidates": 0,
            "total_candidates": 0,
            "scan_limit": 25,
            "scan_strategy": "scope_fair_round_robin",
            "selected_existing_task_candidates": 0,
            "selected_missing_task_candidates": 0,
            "selected_total_candidates": 0,
            "existing_task_scan_limit_reached": False,
            "missing_task_scan_limit_reached": False,
            "scan_pressure": False,
            "oldest_task_candidate_created_at": None,
            "oldest_missing_run_started_at": None,
            "max_task_candidate_age_ms": 0,
            "max_missing_run_age_ms": 0,
            "scopes": [],
        },
    }


def bridge_adapter_outcome_contract() -> dict[str, Any]:
    """``bridge_adapter_outcome_contract``."""
    actions = ["start_workflow", "signal_workflow", "update_workflow"]
    return {
        "schema": "durable-workflow.v2.bridge-adapter-outcome.contract",
        "version": 1,
        "boundary": {
            "role": "bounded_ingress_or_handoff",
            "not_a_workflow_runtime": True,
            "allowed_actions": actions,
            "forbidden_responsibilities": [
                "executing_workflow_code",
                "owning_retry_state",
                "holding_durable_state_outside_history",
            ],
        },
        "patterns": {
            "webhook_receiver": {"actions": actions},
            "eventbridge_handoff": {"actions": actions},
            "queue_backed_adapter": {"actions": ["handoff_external_task"]},
        },
        "idempotency": {
            "required": True,
            "key_sources": ["provider_event_id", "delivery_id", "caller_supplied_key"],
            "duplicate_policy": {
                "start_workflow": ["reject_duplicate", "use_existing"],
                "signal_workflow": ["record_duplicate_without_redelivery"],
                "update_workflow": ["record_duplicate_without_redelivery"],
            },
        },
        "visibility": {
            "outcome_fields": [
                "adapter",
                "action",
                "accepted",
                "outcome",
                "reason",
                "idempotency_key",
                "target",
                "correlation",
                "workflow_id",
                "run_id",
                "workflow_type",
                "control_plane_outcome",
            ],
            "redaction": {
                "never_echo": ["authorization", "signature", "token", "secret", "raw_payload"],
                "safe_references": ["idempotency_key", "workflow_id", "run_id", "correlation"],
            },
        },
        "outcomes": {
            "accepted": {"http_status": 202, "retriable": False, "terminal": False},
            "duplicate": {"http_status": 200, "retriable": False, "terminal": True},
            "rejected": {"http_status": 422, "retriable": False, "terminal": True},
            "unauthorized": {"http_status": 401, "retriable": False, "terminal": True},
        },
        "rejection_reasons": [
            "unknown_target",
            "auth_failed",
            "malformed_payload",
            "duplicate_start",
            "unsupported_routing",
            "unsupported_action",
            "payload_too_large",
            "adapter_unavailable",
        ],
        "examples": [],
        "reference_journeys": [],
    }


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
