"""Exit codes, the CLI's error type, and the one mapping from SDK exceptions to both.

Every command reports failure by raising :class:`CliError`; ``command.py`` catches it (and any
SDK exception, mapped here) and hands it to the renderer, so no user error, server error or
network failure ever reaches the terminal as a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """The exit statuses of ``dw`` (cli.md §2.8)."""

    SUCCESS = 0
    FAILURE = 1
    INVALID = 2
    NETWORK = 3
    AUTH = 4
    NOT_FOUND = 5
    SERVER = 6
    TIMEOUT = 7
    COMPATIBILITY = 8


@dataclass(frozen=True)
class NextStep:
    """A suggestion printed under ``Next steps:``; ``command`` becomes its ``Try:`` line."""

    id: str
    message: str
    command: str | None = None
    severity: str = "error"


@dataclass
class CliError(Exception):
    """A failure to report: its message, exit code and what the error block shows.

    Attributes:
        message: The first line (``Server error: ...`` for HTTP errors).
        exit_code: The process exit status.
        reason: The server's (or the CLI's) machine-readable reason.
        status_code: The HTTP status, for server answers.
        validation: ``(field, message)`` pairs, one ``Validation:`` line each.
        next_steps: The ``Next steps:`` block; also the JSON ``recommendations``.
        details: Further JSON fields of the error object (``server_response``, ids ...).
    """

    message: str
    exit_code: ExitCode = ExitCode.FAILURE
    reason: str | None = None
    status_code: int | None = None
    validation: list[tuple[str, str]] = field(default_factory=list)
    next_steps: list[NextStep] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def invalid(message: str, *, hint: str | None = None, command: str | None = None) -> CliError:
    """A local validation failure (exit 2): bad option value, bad JSON, unknown profile ..."""
    steps = [NextStep("input.invalid", hint or "Check the command's options.", command)]
    return CliError(message, ExitCode.INVALID, reason="invalid_input", next_steps=steps)


def _status_exit(status: int) -> ExitCode:
    if status in (401, 403):
        return ExitCode.AUTH
    if status == 404:
        return ExitCode.NOT_FOUND
    if status == 408:
        return ExitCode.TIMEOUT
    if status >= 500:
        return ExitCode.SERVER
    return ExitCode.INVALID


def _validation_lines(errors: Any) -> list[tuple[str, str]]:
    """``{"field": ["message", ...]}`` (the server's 422 form) as ``(field, message)`` pairs."""
    lines: list[tuple[str, str]] = []
    if isinstance(errors, Mapping):
        for key, messages in errors.items():
            items = (
                messages if isinstance(messages, Sequence) and not isinstance(messages, str) else [messages]
            )
            lines.extend((str(key), str(message)) for message in items)
    return lines


# Where a not-found sends the reader, by the command's area: the listing of what it names.
# Areas without a listing (bridge:webhook ...) give the advice without a ``Try:`` line.
LISTINGS: dict[str, str] = {
    "workflow": "dw workflow:list",
    "schedule": "dw schedule:list",
    "namespace": "dw namespace:list",
    "storage": "dw namespace:list",
    "search-attribute": "dw search-attribute:list",
    "task-queue": "dw task-queue:list",
    "worker": "dw worker:list",
    # Leased tasks are listed under their queue's current leases.
    "workflow-task": "dw task-queue:describe <task-queue>",
    "query-task": "dw task-queue:describe <task-queue>",
    "activity": "dw task-queue:describe <task-queue>",
    "system": "dw workflow:list",
}


def listing_for(command: str | None) -> str | None:
    """The ``Try:`` command of a not-found of ``command`` (``schedule:describe`` → ``dw schedule:list``)."""
    if not command:
        return None
    return LISTINGS.get(command.split(":", 1)[0])


def _steps_for(exit_code: ExitCode, server: str, command: str | None = None) -> list[NextStep]:
    if exit_code is ExitCode.AUTH:
        return [
            NextStep(
                "auth.failed",
                "Pass a valid token with --token or DURABLE_WORKFLOW_AUTH_TOKEN.",
                "dw env:set <name> --token-env=DURABLE_WORKFLOW_AUTH_TOKEN",
            )
        ]
    if exit_code is ExitCode.NOT_FOUND:
        return [NextStep("resource.not_found", "Check the id and the namespace.", listing_for(command))]
    if exit_code is ExitCode.SERVER:
        return [NextStep("server.error", "The server failed; check its logs.", "dw server:health")]
    if exit_code is ExitCode.NETWORK:
        return [
            NextStep(
                "server.unreachable",
                f"Check that a server is running at {server}, or pass --server.",
                "dw server:health --server=<url>",
            )
        ]
    if exit_code is ExitCode.TIMEOUT:
        return [NextStep("server.timeout", "The server did not answer in time; retry.", "dw server:health")]
    if exit_code is ExitCode.INVALID:
        return [NextStep("request.invalid", "Fix the values the server refused.", None)]
    return []


def from_exception(exc: BaseException, *, server: str, command: str | None = None) -> CliError | None:
    """The :class:`CliError` for an SDK exception, or ``None`` when it is not one we report.

    The one place SDK exceptions become exit codes: HTTP statuses by §2.8, transport failures 3
    (7 for a timeout), payload problems 2. ``command`` (its colon name) picks the next steps.
    """
    import httpx

    from durable_workflow.errors import PayloadError, ServerError, TransportError

    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, ServerError):
        status = exc.status_code
        body = exc.body if isinstance(exc.body, Mapping) else {}
        if status is None or status < 400:
            # A local protocol check of the SDK (a version mismatch, a redirect, a bad body).
            return CliError(f"Unexpected server answer: {exc.message}", ExitCode.FAILURE, reason=exc.reason)
        exit_code = _status_exit(status)
        details: dict[str, Any] = {"server_response": exc.body}
        for key in ("code", "error_code", "type", "rejection_reason", "workflow_id", "run_id", "outcome"):
            if body.get(key) is not None:
                details[key] = body[key]
        return CliError(
            f"Server error: {exc.message}",
            exit_code,
            reason=exc.reason,
            status_code=status,
            validation=_validation_lines(body.get("errors") or body.get("validation_errors")),
            next_steps=_steps_for(exit_code, server, command),
            details=details,
        )
    if isinstance(exc, TransportError):
        # httpx's timeouts on the httpx path; the SDK's own sender raises TimeoutError subclasses.
        timed_out = isinstance(exc.__cause__, (httpx.TimeoutException, TimeoutError))
        exit_code = ExitCode.TIMEOUT if timed_out else ExitCode.NETWORK
        what = "timed out" if timed_out else "could not connect"
        return CliError(
            f"Cannot reach the server at {server}: {what}.",
            exit_code,
            reason="server_timeout" if timed_out else "server_unreachable",
            next_steps=_steps_for(exit_code, server),
            details={"detail": str(exc)},
        )
    if isinstance(exc, PayloadError):
        return CliError(str(exc), ExitCode.INVALID, reason=exc.reason or "invalid_payload")
    return None
