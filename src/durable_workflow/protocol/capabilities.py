"""Capability names: what a worker says it can do at registration, what the server advertises.

A worker lists its capabilities in ``POST /worker/register`` (``capabilities``); the server
stores them and adapts where the contract leaves room (a worker without a capability gets the
behaviour SDK 0.4.84 expects). Server capabilities appear in ``GET /api/cluster/info``.
"""

from __future__ import annotations

# Worker capabilities (sent by this SDK's Worker).
#: The worker answers query tasks (``/worker/query-tasks/*``).
WORKER_QUERY_TASKS = "query_tasks"
#: The worker answers pre-accept update validation tasks, so validators run before acceptance.
WORKER_UPDATE_VALIDATION = "update_validation"
#: A re-sent ``open_condition_wait`` names the wait it keeps open (``condition_wait_id``); one
#: without it is always a new wait, so two back-to-back waits with the same key stay distinct.
WORKER_CONDITION_WAIT_IDS = "condition_wait_ids"

# Server capabilities (keys of cluster-info ``capabilities``).
#: ``POST /workflows/{id}/pause`` and ``/resume`` are served.
SERVER_WORKFLOW_PAUSE = "workflow_pause"
#: ``GET /workflows/{id}?wait_seconds=N`` holds the describe until the current run closed for
#: good (not continued) or ``N`` seconds passed, at most the server's long-poll limit.
SERVER_WORKFLOW_RESULT_WAIT = "workflow_result_wait"
#: The same extension advertised on the answers of start and describe (so a client learns it
#: without asking cluster info): the longest wait, in seconds, the server holds.
RESULT_WAIT_HEADER = "X-Durable-Workflow-Result-Wait"
#: A workflow-task completion may declare ``eager_activity_slots``: the activities it schedules
#: on the worker's queue come back leased in ``eager_activity_tasks`` (no activity poll).
SERVER_EAGER_ACTIVITY_DISPATCH = "eager_activity_dispatch"
#: An activity completion may ask for ``eager_workflow_task``: the workflow task it queues comes
#: back leased to the completing worker (no workflow-task poll).
SERVER_ACTIVITY_COMPLETION_WORKFLOW_TASK = "activity_completion_workflow_task"
#: ``POST /workflows`` may name an ``eager_worker_id``: the new run's first workflow task comes
#: back leased to that (registered, live) worker in ``eager_workflow_task``.
SERVER_EAGER_START_WORKFLOW_TASK = "eager_start_workflow_task"
#: The three round-trip extensions above (see docs/protocol.md, "Fewer round trips").
ROUND_TRIP_EXTENSIONS = (
    SERVER_EAGER_ACTIVITY_DISPATCH,
    SERVER_ACTIVITY_COMPLETION_WORKFLOW_TASK,
    SERVER_EAGER_START_WORKFLOW_TASK,
)
#: Sticky workflow tasks: a completion may carry ``"sticky": true``; the run's next workflow task
#: then goes to that worker first, with only the events after what it had (docs/protocol.md).
#: Also in the worker-plane ``server_capabilities``, where the worker reads it.
SERVER_STICKY_WORKFLOW_TASKS = "sticky_workflow_tasks"
