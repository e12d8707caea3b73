"""Task queues and build-id cohorts (control-plane.md §8.6, §9.3).

Reserved (answered 404) until served; see issue 8.
"""

from __future__ import annotations

from durable_workflow.protocol import routes

from .routing import Operation

OPERATIONS: list[Operation] = [
    Operation("GET", routes.TASK_QUEUES, "list_task_queues"),
    Operation("GET", routes.TASK_QUEUE, "describe_task_queue"),
    Operation("GET", routes.TASK_QUEUE_BUILD_IDS, "list_task_queue_build_ids"),
    Operation("POST", routes.TASK_QUEUE_BUILD_ID_DRAIN, "drain_task_queue_build_id"),
    Operation("POST", routes.TASK_QUEUE_BUILD_ID_RESUME, "resume_task_queue_build_id"),
    Operation("POST", routes.TASK_QUEUE_BUILD_ID_PROMOTE, "promote_task_queue_build_id"),
]
