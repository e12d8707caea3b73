"""The body of the update routes: the shared command result plus the update's own fields."""

from __future__ import annotations

from typing import Any, Literal

from durable_workflow.protocol.wire import Envelope

from ..targets import CommandResultBody

WaitFor = Literal["accepted", "completed"]


class UpdateResultBody(CommandResultBody, total=False):
    """``POST /workflows/{id}/update/{name}``: 202 accepted, 200 completed, 422 failed."""

    update_id: str
    update_status: str
    update_name: str
    workflow_sequence: int | None
    result: Any
    result_envelope: Envelope | None
    failure_id: str | None
    failure_message: str | None
    message: str
    accepted_at: str | None
    applied_at: str | None
    rejected_at: str | None
    closed_at: str | None
    wait_for: WaitFor
    wait_timed_out: bool
    wait_timeout_seconds: int | None
