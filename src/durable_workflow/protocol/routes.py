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
