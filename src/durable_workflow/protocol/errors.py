"""Machine-readable ``reason`` codes of the wire contract (control plane and worker plane).

The server maps its domain errors to ``(status, reason)`` with these constants and the SDK
maps ``reason`` back to typed exceptions, so both sides share one spelling.
"""

from __future__ import annotations

# transport / middleware
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
SERVER_ERROR = "server_error"
# 503: the server cannot reach its database right now (restart, failover, lost connection); retry.
DATABASE_UNAVAILABLE = "database_unavailable"
MALFORMED_JSON = "malformed_json"
PAYLOAD_TOO_LARGE = "payload_too_large"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
MISSING_CONTROL_PLANE_VERSION = "missing_control_plane_version"
UNSUPPORTED_CONTROL_PLANE_VERSION = "unsupported_control_plane_version"
MISSING_PROTOCOL_VERSION = "missing_protocol_version"
UNSUPPORTED_PROTOCOL_VERSION = "unsupported_protocol_version"
NAMESPACE_NOT_FOUND = "namespace_not_found"
NAMESPACE_ALREADY_EXISTS = "namespace_already_exists"
DEFAULT_NAMESPACE_PROTECTED = "default_namespace_protected"  # 409: the server's default cannot be deleted
VALIDATION_FAILED = "validation_failed"

# workflows
INSTANCE_NOT_FOUND = "instance_not_found"
WORKFLOW_NOT_FOUND = "workflow_not_found"
RUN_NOT_FOUND = "run_not_found"
DUPLICATE_NOT_ALLOWED = "duplicate_not_allowed"
INSTANCE_ALREADY_STARTED = "instance_already_started"
WORKFLOW_ID_RESERVED_IN_NAMESPACE = "workflow_id_reserved_in_namespace"
RUN_NOT_ACTIVE = "run_not_active"
HISTORICAL_RUN_COMMAND_REJECTED = "historical_run_command_rejected"
RUN_NOT_CLOSED = "run_not_closed"
UNKNOWN_SIGNAL = "unknown_signal"
INVALID_SIGNAL_ARGUMENTS = "invalid_signal_arguments"
UNKNOWN_UPDATE = "unknown_update"
INVALID_UPDATE_ARGUMENTS = "invalid_update_arguments"
UPDATE_REJECTED = "update_rejected"
UPDATE_FAILED = "update_failed"
QUERY_NOT_FOUND = "query_not_found"
REJECTED_UNKNOWN_QUERY = "rejected_unknown_query"
INVALID_QUERY_ARGUMENTS = "invalid_query_arguments"
QUERY_REJECTED = "query_rejected"
QUERY_WORKER_UNAVAILABLE = "query_worker_unavailable"
QUERY_WORKER_INCOMPATIBLE = "query_worker_incompatible"
QUERY_WORKFLOW_STATE_UNAVAILABLE = "query_workflow_state_unavailable"
QUERY_WORKER_TIMEOUT = "query_worker_timeout"
QUERY_WORKER_EXECUTION_TIMEOUT = "query_worker_execution_timeout"
QUERY_TASK_NOT_CLAIMED = "query_task_not_claimed"
# a query task's fence (worker plane): final answers, the SDK stops retrying on these
QUERY_TASK_NOT_FOUND = "query_task_not_found"
QUERY_TASK_NOT_LEASED = "query_task_not_leased"
QUERY_TASK_TIMED_OUT = "query_task_timed_out"
QUERY_TASK_ATTEMPT_MISMATCH = "query_task_attempt_mismatch"
# a worker's refusal meaning "not mine": the task goes back to the queue for another worker
QUERY_WORKFLOW_TYPE_NOT_REGISTERED = "query_workflow_type_not_registered"
SCHEDULE_NOT_FOUND = "schedule_not_found"
SCHEDULE_ALREADY_EXISTS = "schedule_already_exists"
WORKER_NOT_FOUND = "worker_not_found"
ATTRIBUTE_NOT_FOUND = "attribute_not_found"

# worker plane
WORKER_NOT_REGISTERED = "worker_not_registered"
TASK_NOT_FOUND = "task_not_found"
ATTEMPT_NOT_FOUND = "attempt_not_found"
HISTORY_NOT_AVAILABLE = "history_not_available"
INVALID_PAGE_TOKEN = "invalid_page_token"
TASK_QUEUE_MISMATCH = "task_queue_mismatch"
BUILD_ID_MISMATCH = "build_id_mismatch"
TASK_NOT_LEASED = "task_not_leased"
LEASE_OWNER_MISMATCH = "lease_owner_mismatch"
WORKFLOW_TASK_ATTEMPT_MISMATCH = "workflow_task_attempt_mismatch"
LEASE_EXPIRED = "lease_expired"
RUN_CLOSED = "run_closed"
#: A completion that would close the run while signals it has not seen wait: refused, and the
#: run's next task (already queued) carries them.
UNHANDLED_SIGNALS = "unhandled_signals"
RUN_ALREADY_CLOSED = "run_already_closed"
INVALID_COMMANDS = "invalid_commands"
TASK_MISMATCH = "task_mismatch"
STALE_ATTEMPT = "stale_attempt"
RUN_CANCELLED = "run_cancelled"
RUN_TERMINATED = "run_terminated"
WORKFLOW_DEFINITION_CHANGED = "workflow_definition_changed"
STRUCTURAL_LIMIT_EXCEEDED = "structural_limit_exceeded"

# external payload storage (control-plane.md §8.2): the storage test's refusals
EXTERNAL_STORAGE_NOT_CONFIGURED = "external_storage_not_configured"
EXTERNAL_STORAGE_DISABLED = "external_storage_disabled"
STORAGE_DRIVER_UNAVAILABLE = "storage_driver_unavailable"

# payloads
UNSUPPORTED_PAYLOAD_CODEC = "unsupported_payload_codec"
INVALID_PAYLOAD_FRAMING = "invalid_payload_framing"
UNSUPPORTED_PAYLOAD_SCHEMA = "unsupported_payload_schema"

# Worker-plane rejections a worker must treat as "someone else owns this task now":
# the completion is dropped silently instead of being reported as a task failure.
AMBIGUOUS_COMPLETION_REASONS = frozenset(
    {
        LEASE_EXPIRED,
        LEASE_OWNER_MISMATCH,
        RUN_ALREADY_CLOSED,
        RUN_CLOSED,
        TASK_NOT_FOUND,
        TASK_NOT_LEASED,
        UNHANDLED_SIGNALS,
        WORKFLOW_TASK_ATTEMPT_MISMATCH,
    }
)
