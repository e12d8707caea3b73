"""``dw activity:complete`` and ``dw activity:fail``: settle an activity attempt as its worker
would (cli.md §3.7), through the SDK Client's worker-plane methods.

A settled or fenced attempt answers ``recorded: false`` with a reason; that is shown, not
treated as an error. JSON is the server's answer as it is (cli.md §2.7).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from .. import payloads
from ..command import Invocation, command
from ..errors import invalid
from ..options import FAILURE_TYPE, LEASE_OWNER
from ..views import settled

FAILURE_KINDS = (
    "application",
    "timeout",
    "cancellation",
    "malformed_output",
    "handler_crash",
    "decode_failure",
    "unsupported_payload",
)
TIMEOUT_TYPES = (
    "schedule_to_start",
    "start_to_close",
    "schedule_to_close",
    "heartbeat",
    "deadline_exceeded",
)


def _show(inv: Invocation, title: str, body: Mapping[str, Any], task_id: str, attempt_id: str) -> None:
    settled(
        inv.out,
        title,
        body,
        [
            ("Task ID", body.get("task_id") or task_id),
            ("Attempt ID", body.get("activity_attempt_id") or attempt_id),
        ],
        [("Next Task ID", body.get("next_task_id"))],
    )


@command(
    "activity:complete",
    summary="Complete an activity attempt with a result (worker protocol).",
    example="dw activity:complete at-1 att-1 --input='{\"items_processed\":3}'",
    worker_plane=True,
)
@click.argument("task_id")
@click.argument("attempt_id")
@LEASE_OWNER
@payloads.payload_options
def complete(
    inv: Invocation,
    task_id: str,
    attempt_id: str,
    lease_owner: str,
    input_text: str | None,
    input_file: str | None,
    input_encoding: str,
) -> None:
    # The result is sent as parsed, not wrapped in a list (cli.md §2.6).
    _, result = payloads.value(input_text, input_file, input_encoding)
    body = inv.call(
        lambda client: client.complete_activity_task(
            task_id=task_id, activity_attempt_id=attempt_id, lease_owner=lease_owner, result=result
        )
    )
    _show(inv, "Activity completed", body, task_id, attempt_id)


@command(
    "activity:fail",
    summary="Fail an activity attempt (worker protocol).",
    example="dw activity:fail at-1 att-1 -m 'upstream refused' --type=Rejected --non-retryable",
    worker_plane=True,
)
@click.argument("task_id")
@click.argument("attempt_id")
@LEASE_OWNER
@click.option("--message", "-m", help="Failure message (required by the server).")
@FAILURE_TYPE
@click.option("--non-retryable", is_flag=True, help="Fail the activity for good, whatever its retry policy.")
@click.option("--retryable", is_flag=True, help="Ask for a retry whatever the failure kind implies.")
@click.option("--failure-kind", metavar="KIND", help=f"Failure kind: {', '.join(FAILURE_KINDS)}.")
@click.option("--timeout-type", metavar="TYPE", help=f"For timeouts: {', '.join(TIMEOUT_TYPES)}.")
@click.option("--cancelled", is_flag=True, help="The attempt ended by cancellation.")
@click.option("--malformed-output", is_flag=True, help="The activity produced output it cannot encode.")
def fail(
    inv: Invocation,
    task_id: str,
    attempt_id: str,
    lease_owner: str,
    message: str | None,
    failure_type: str | None,
    non_retryable: bool,
    retryable: bool,
    failure_kind: str | None,
    timeout_type: str | None,
    cancelled: bool,
    malformed_output: bool,
) -> None:
    if retryable and non_retryable:
        raise invalid("--retryable and --non-retryable cannot be used together.")
    if not message:
        # The server requires a message; say so before sending anything.
        raise invalid(
            "activity:fail needs --message.", command=f"dw activity:fail {task_id} {attempt_id} -m '...'"
        )
    body = inv.call(
        lambda client: client.fail_activity_task(
            task_id=task_id,
            activity_attempt_id=attempt_id,
            lease_owner=lease_owner,
            message=message,
            failure_type=failure_type,
            non_retryable=non_retryable,
            kind=failure_kind,
            timeout_type=timeout_type,
            cancelled=True if cancelled else None,
            retryable=True if retryable else None,
            malformed_output=True if malformed_output else None,
        )
    )
    _show(inv, "Activity failed", body, task_id, attempt_id)


COMMANDS = (complete, fail)
