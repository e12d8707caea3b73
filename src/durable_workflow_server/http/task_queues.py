"""Task queues and build-id cohorts (control-plane.md §8.6, §9.3), operator or admin.

Describing an unknown queue answers an empty description (200). Drain, resume and promote take
``{"build_id": string|null}`` (the key must be present, 422 otherwise) and are idempotent.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.protocol import routes

from . import limits
from .errors import validation_error
from .models.task_queues import BuildIdBody
from .routing import Call, Operation, Reply, copy_reply, engine_call


def _queue(call: Call[Any]) -> str:
    queue = call.path["task_queue"]
    if len(queue) > limits.NAME_LENGTH:
        message = f"The task queue field must not be greater than {limits.NAME_LENGTH} characters."
        raise validation_error({"task_queue": [message]})
    return queue


async def list_task_queues(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.list_task_queues(call.namespace)))


async def describe_task_queue(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.describe_task_queue(call.namespace, _queue(call))))


async def list_build_ids(call: Call[Any]) -> Reply:
    return copy_reply(await engine_call(call.engine.list_task_queue_build_ids(call.namespace, _queue(call))))


async def drain(call: Call[BuildIdBody]) -> Reply:
    change = call.engine.drain_task_queue_build_id(call.namespace, _queue(call), call.input.build_id)
    body = await engine_call(change)
    return copy_reply(body)


async def resume(call: Call[BuildIdBody]) -> Reply:
    change = call.engine.resume_task_queue_build_id(call.namespace, _queue(call), call.input.build_id)
    body = await engine_call(change)
    return copy_reply(body)


async def promote(call: Call[BuildIdBody]) -> Reply:
    change = call.engine.promote_task_queue_build_id(call.namespace, _queue(call), call.input.build_id)
    body = await engine_call(change)
    return copy_reply(body)


OPERATIONS: list[Operation] = [
    Operation("GET", routes.TASK_QUEUES, "list_task_queues", list_task_queues,
              summary="List the namespace's task queues with their stats and admission."),
    Operation("GET", routes.TASK_QUEUE, "describe_task_queue", describe_task_queue,
              summary="Describe a task queue: pollers, backlog, current leases, repair and admission."),
    Operation("GET", routes.TASK_QUEUE_BUILD_IDS, "list_task_queue_build_ids", list_build_ids,
              summary="List the build-id cohorts of a task queue."),
    Operation("POST", routes.TASK_QUEUE_BUILD_ID_DRAIN, "drain_task_queue_build_id", drain,
              body=BuildIdBody,
              summary="Stop a build-id cohort claiming new tasks (in-flight work finishes)."),
    Operation("POST", routes.TASK_QUEUE_BUILD_ID_RESUME, "resume_task_queue_build_id", resume,
              body=BuildIdBody, summary="Let a drained build-id cohort claim again."),
    Operation("POST", routes.TASK_QUEUE_BUILD_ID_PROMOTE, "promote_task_queue_build_id", promote,
              body=BuildIdBody,
              summary="Pin the queue's new runs to a build-id cohort."),
]  # fmt: skip
