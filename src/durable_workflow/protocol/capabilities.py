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
#: Sticky workflow tasks: a completion may carry ``"sticky": true``; the run's next workflow task
#: then goes to that worker first, with only the events after what it had (docs/protocol.md).
#: Also in the worker-plane ``server_capabilities``, where the worker reads it.
SERVER_STICKY_WORKFLOW_TASKS = "sticky_workflow_tasks"
