"""Route paths of the wire contract, relative to the ``/api`` prefix.

This is the one list of paths: the SDK formats these constants into URLs, and the server
builds its route table from them (a test pins :data:`ALL` to the routes the server declares).
Path parameters are ``{name}`` placeholders, filled with ``str.format``.
"""

from __future__ import annotations

API_PREFIX = "/api"

HEALTH = "/health"
READY = "/ready"
CLUSTER_INFO = "/cluster/info"
OPENAPI = "/openapi.json"

WORKFLOWS = "/workflows"
WORKFLOW = "/workflows/{workflow_id}"
WORKFLOW_RUNS = "/workflows/{workflow_id}/runs"
WORKFLOW_RUN = "/workflows/{workflow_id}/runs/{run_id}"
WORKFLOW_RUN_HISTORY = "/workflows/{workflow_id}/runs/{run_id}/history"
WORKFLOW_RUN_HISTORY_EXPORT = "/workflows/{workflow_id}/runs/{run_id}/history/export"
WORKFLOW_SIGNAL = "/workflows/{workflow_id}/signal/{name}"
WORKFLOW_QUERY = "/workflows/{workflow_id}/query/{name}"
WORKFLOW_UPDATE = "/workflows/{workflow_id}/update/{name}"
WORKFLOW_CANCEL = "/workflows/{workflow_id}/cancel"
WORKFLOW_TERMINATE = "/workflows/{workflow_id}/terminate"
WORKFLOW_REPAIR = "/workflows/{workflow_id}/repair"
WORKFLOW_ARCHIVE = "/workflows/{workflow_id}/archive"
WORKFLOW_DEBUG = "/workflows/{workflow_id}/debug"
# An extension of the contract (cluster-info capability ``workflow_pause``).
WORKFLOW_PAUSE = "/workflows/{workflow_id}/pause"
WORKFLOW_RESUME = "/workflows/{workflow_id}/resume"
WORKFLOW_RUN_SIGNAL = "/workflows/{workflow_id}/runs/{run_id}/signal/{name}"
WORKFLOW_RUN_QUERY = "/workflows/{workflow_id}/runs/{run_id}/query/{name}"
WORKFLOW_RUN_UPDATE = "/workflows/{workflow_id}/runs/{run_id}/update/{name}"
WORKFLOW_RUN_CANCEL = "/workflows/{workflow_id}/runs/{run_id}/cancel"
WORKFLOW_RUN_TERMINATE = "/workflows/{workflow_id}/runs/{run_id}/terminate"
WORKFLOW_RUN_REPAIR = "/workflows/{workflow_id}/runs/{run_id}/repair"
WORKFLOW_RUN_ARCHIVE = "/workflows/{workflow_id}/runs/{run_id}/archive"
WORKFLOW_RUN_DEBUG = "/workflows/{workflow_id}/runs/{run_id}/debug"

# Namespaces and external payload storage (control-plane.md §8.1, §8.2, §9.1).
NAMESPACES = "/namespaces"
NAMESPACE = "/namespaces/{namespace}"
NAMESPACE_EXTERNAL_STORAGE = "/namespaces/{namespace}/external-storage"
STORAGE_TEST = "/storage/test"

# Schedules (§8.7).
SCHEDULES = "/schedules"
SCHEDULE = "/schedules/{schedule_id}"
SCHEDULE_PAUSE = "/schedules/{schedule_id}/pause"
SCHEDULE_RESUME = "/schedules/{schedule_id}/resume"
SCHEDULE_TRIGGER = "/schedules/{schedule_id}/trigger"
SCHEDULE_BACKFILL = "/schedules/{schedule_id}/backfill"
SCHEDULE_HISTORY = "/schedules/{schedule_id}/history"

# Search attributes (§8.8).
SEARCH_ATTRIBUTES = "/search-attributes"
SEARCH_ATTRIBUTE = "/search-attributes/{name}"

# Task queues and build-id cohorts (§8.6, §9.3); the worker registry (§8.4).
TASK_QUEUES = "/task-queues"
TASK_QUEUE = "/task-queues/{task_queue}"
TASK_QUEUE_BUILD_IDS = "/task-queues/{task_queue}/build-ids"
TASK_QUEUE_BUILD_ID_DRAIN = "/task-queues/{task_queue}/build-ids/drain"
TASK_QUEUE_BUILD_ID_RESUME = "/task-queues/{task_queue}/build-ids/resume"
TASK_QUEUE_BUILD_ID_PROMOTE = "/task-queues/{task_queue}/build-ids/promote"
WORKERS = "/workers"
WORKER = "/workers/{worker_id}"

# System maintenance and metrics, admin only (§8.9).
SYSTEM_METRICS = "/system/metrics"
SYSTEM_OPERATOR_METRICS = "/system/operator-metrics"
SYSTEM_REPAIR = "/system/repair"
SYSTEM_REPAIR_PASS = "/system/repair/pass"
SYSTEM_ACTIVITY_TIMEOUTS = "/system/activity-timeouts"
SYSTEM_ACTIVITY_TIMEOUTS_PASS = "/system/activity-timeouts/pass"
SYSTEM_RETENTION = "/system/retention"
SYSTEM_RETENTION_PASS = "/system/retention/pass"

# The webhook bridge (§8.5).
BRIDGE_WEBHOOK = "/bridge-adapters/webhook/{adapter}"

WORKER_REGISTER = "/worker/register"
WORKER_HEARTBEAT = "/worker/heartbeat"
WORKFLOW_TASK_POLL = "/worker/workflow-tasks/poll"
WORKFLOW_TASK_HISTORY = "/worker/workflow-tasks/{task_id}/history"
WORKFLOW_TASK_HEARTBEAT = "/worker/workflow-tasks/{task_id}/heartbeat"
WORKFLOW_TASK_COMPLETE = "/worker/workflow-tasks/{task_id}/complete"
WORKFLOW_TASK_FAIL = "/worker/workflow-tasks/{task_id}/fail"
QUERY_TASK_POLL = "/worker/query-tasks/poll"
QUERY_TASK_COMPLETE = "/worker/query-tasks/{query_task_id}/complete"
QUERY_TASK_FAIL = "/worker/query-tasks/{query_task_id}/fail"
ACTIVITY_TASK_POLL = "/worker/activity-tasks/poll"
ACTIVITY_TASK_COMPLETE = "/worker/activity-tasks/{task_id}/complete"
ACTIVITY_TASK_FAIL = "/worker/activity-tasks/{task_id}/fail"
ACTIVITY_TASK_HEARTBEAT = "/worker/activity-tasks/{task_id}/heartbeat"

# Every (method, path) of the contract this package knows, in the server's routing order.
ALL: tuple[tuple[str, str], ...] = (
    ("GET", HEALTH),
    ("GET", READY),
    ("GET", OPENAPI),
    ("GET", CLUSTER_INFO),
    ("POST", WORKFLOWS),
    ("GET", WORKFLOWS),
    ("GET", WORKFLOW),
    ("GET", WORKFLOW_RUNS),
    ("GET", WORKFLOW_RUN),
    ("GET", WORKFLOW_RUN_HISTORY),
    ("GET", WORKFLOW_RUN_HISTORY_EXPORT),
    ("POST", WORKFLOW_SIGNAL),
    ("POST", WORKFLOW_QUERY),
    ("POST", WORKFLOW_UPDATE),
    ("POST", WORKFLOW_RUN_SIGNAL),
    ("POST", WORKFLOW_RUN_QUERY),
    ("POST", WORKFLOW_RUN_UPDATE),
    ("POST", WORKFLOW_CANCEL),
    ("POST", WORKFLOW_TERMINATE),
    ("POST", WORKFLOW_REPAIR),
    ("POST", WORKFLOW_ARCHIVE),
    ("POST", WORKFLOW_RUN_CANCEL),
    ("POST", WORKFLOW_RUN_TERMINATE),
    ("POST", WORKFLOW_RUN_REPAIR),
    ("POST", WORKFLOW_RUN_ARCHIVE),
    ("POST", WORKFLOW_PAUSE),
    ("POST", WORKFLOW_RESUME),
    ("GET", WORKFLOW_DEBUG),
    ("GET", WORKFLOW_RUN_DEBUG),
    ("GET", NAMESPACES),
    ("POST", NAMESPACES),
    ("GET", NAMESPACE),
    ("PUT", NAMESPACE),
    ("DELETE", NAMESPACE),
    ("PUT", NAMESPACE_EXTERNAL_STORAGE),
    ("POST", STORAGE_TEST),
    ("GET", SCHEDULES),
    ("POST", SCHEDULES),
    ("GET", SCHEDULE),
    ("PUT", SCHEDULE),
    ("DELETE", SCHEDULE),
    ("POST", SCHEDULE_PAUSE),
    ("POST", SCHEDULE_RESUME),
    ("POST", SCHEDULE_TRIGGER),
    ("POST", SCHEDULE_BACKFILL),
    ("GET", SCHEDULE_HISTORY),
    ("GET", SEARCH_ATTRIBUTES),
    ("POST", SEARCH_ATTRIBUTES),
    ("DELETE", SEARCH_ATTRIBUTE),
    ("GET", TASK_QUEUES),
    ("GET", TASK_QUEUE),
    ("GET", TASK_QUEUE_BUILD_IDS),
    ("POST", TASK_QUEUE_BUILD_ID_DRAIN),
    ("POST", TASK_QUEUE_BUILD_ID_RESUME),
    ("POST", TASK_QUEUE_BUILD_ID_PROMOTE),
    ("GET", WORKERS),
    ("GET", WORKER),
    ("DELETE", WORKER),
    ("GET", SYSTEM_METRICS),
    ("GET", SYSTEM_OPERATOR_METRICS),
    ("GET", SYSTEM_REPAIR),
    ("POST", SYSTEM_REPAIR_PASS),
    ("GET", SYSTEM_ACTIVITY_TIMEOUTS),
    ("POST", SYSTEM_ACTIVITY_TIMEOUTS_PASS),
    ("GET", SYSTEM_RETENTION),
    ("POST", SYSTEM_RETENTION_PASS),
    ("POST", BRIDGE_WEBHOOK),
    ("POST", WORKER_REGISTER),
    ("POST", WORKER_HEARTBEAT),
    ("POST", WORKFLOW_TASK_POLL),
    ("POST", WORKFLOW_TASK_HISTORY),
    ("POST", WORKFLOW_TASK_HEARTBEAT),
    ("POST", WORKFLOW_TASK_COMPLETE),
    ("POST", WORKFLOW_TASK_FAIL),
    ("POST", ACTIVITY_TASK_POLL),
    ("POST", ACTIVITY_TASK_COMPLETE),
    ("POST", ACTIVITY_TASK_FAIL),
    ("POST", ACTIVITY_TASK_HEARTBEAT),
    ("POST", QUERY_TASK_POLL),
    ("POST", QUERY_TASK_COMPLETE),
    ("POST", QUERY_TASK_FAIL),
)
