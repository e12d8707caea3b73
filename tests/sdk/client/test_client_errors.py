"""Error answers map to typed exceptions (the reason table in ``client/_errors.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from durable_workflow import errors as e
from durable_workflow.client import Client
from durable_workflow.client._errors import exception_for


@pytest.mark.parametrize(
    ("status", "body", "operation", "expected"),
    [
        (401, {"reason": "unauthorized", "message": "no token"}, None, e.Unauthorized),
        (403, {"reason": "forbidden", "role": "worker"}, None, e.Forbidden),
        (404, {"reason": "instance_not_found"}, "describe", e.WorkflowNotFound),
        (404, {"reason": "workflow_not_found"}, "describe", e.WorkflowNotFound),
        (404, {"reason": "run_not_found"}, "describe_run", e.WorkflowNotFound),
        (404, {"reason": "namespace_not_found"}, "describe", e.NamespaceNotFound),
        (404, {"reason": "schedule_not_found"}, None, e.ScheduleNotFound),
        (404, {"reason": "worker_not_found"}, None, e.WorkerNotFound),
        (404, {"reason": "attribute_not_found"}, None, e.SearchAttributeNotFound),
        (404, {"reason": "unknown_signal"}, "signal", e.SignalFailed),
        (404, {"reason": "query_not_found"}, "query", e.QueryFailed),
        (404, {"reason": "rejected_unknown_query"}, "query", e.QueryFailed),
        (404, {"reason": "not_found"}, None, e.ServerError),
        (409, {"reason": "duplicate_not_allowed"}, "start", e.WorkflowAlreadyStarted),
        (409, {"reason": "instance_already_started"}, "start", e.WorkflowAlreadyStarted),
        (409, {"outcome": "rejected_duplicate"}, "start", e.WorkflowAlreadyStarted),
        (409, {"reason": "schedule_already_exists"}, None, e.ScheduleAlreadyExists),
        (409, {"reason": "update_rejected"}, "update", e.UpdateRejected),
        (409, {"reason": "run_not_active"}, "signal", e.SignalFailed),
        (409, {"reason": "run_not_active"}, "query", e.QueryFailed),
        (409, {"reason": "run_not_active", "control_plane": {"operation": "signal"}}, None, e.SignalFailed),
        (409, {"reason": "run_not_active"}, "cancel", e.ServerError),
        (409, {"reason": "query_rejected"}, "query", e.QueryFailed),
        (409, {"reason": "query_worker_unavailable"}, "query", e.QueryFailed),
        (409, {"reason": "namespace_already_exists"}, None, e.InvalidArgument),
        (409, {"reason": "attribute_already_exists"}, None, e.InvalidArgument),
        (409, {"reason": "lease_expired"}, "workflow_task_complete", e.ServerError),
        (422, {"reason": "validation_failed", "errors": {"f": ["bad"]}}, "start", e.InvalidArgument),
        (422, {"reason": "invalid_signal_arguments"}, "signal", e.SignalFailed),
        (422, {"reason": "invalid_query_arguments"}, "query", e.QueryFailed),
        (422, {"outcome": "update_failed", "message": "handler raised"}, "update", e.InvalidArgument),
        (504, {"reason": "query_worker_timeout"}, "query", e.QueryFailed),
        (400, {"reason": "missing_control_plane_version"}, None, e.ServerError),
        (500, "Server Error", None, e.ServerError),
    ],
)
def test_mapping(status: int, body: Any, operation: str | None, expected: type[e.ServerError]) -> None:
    exc = exception_for(status, body, operation=operation)
    assert type(exc) is expected
    assert isinstance(exc, e.ServerError)
    assert exc.status_code == status
    assert exc.body == body
    if isinstance(body, dict):
        assert exc.reason == body.get("reason")


def test_validation_errors_are_carried() -> None:
    exc = exception_for(
        422, {"reason": "validation_failed", "message": "bad", "validation_errors": {"x": ["y"]}}
    )
    assert isinstance(exc, e.InvalidArgument)
    assert exc.errors == {"x": ["y"]}
    assert exc.message == "bad"


def test_message_falls_back_to_status() -> None:
    assert str(exception_for(418, None)) == "server answered HTTP 418"
    assert str(exception_for(502, "<html>bad gateway</html>")) == "<html>bad gateway</html>"


async def test_client_passes_its_operation(fake: Any, make_client: Callable[..., Client]) -> None:
    # A minimal server sends no control_plane block; the client still knows it was a query.
    fake.reply(409, {"reason": "run_not_active", "message": "closed"})
    client = make_client()
    with pytest.raises(e.QueryFailed):
        await client.query_workflow("wf", "status")
    fake.reply(409, {"reason": "run_not_active", "message": "closed"})
    with pytest.raises(e.SignalFailed):
        await client.signal_workflow("wf", "go")


async def test_worker_plane_fence_error_keeps_reason(fake: Any, make_client: Callable[..., Client]) -> None:
    fake.reply(409, {"reason": "lease_expired", "message": "lease gone", "protocol_version": "1.1"})
    client = make_client()
    with pytest.raises(e.ServerError) as info:
        await client.complete_workflow_task(
            task_id="t", lease_owner="w", workflow_task_attempt=1, commands=[]
        )
    assert info.value.reason == "lease_expired"
    assert info.value.status_code == 409
