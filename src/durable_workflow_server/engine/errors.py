"""Domain errors raised by the engine. ``http/errors.py`` turns them into status + envelope.

The engine never picks an HTTP status; it names the ``reason`` (``durable_workflow.protocol.errors``)
and any context fields the envelope should carry.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the engine refuses. ``extra`` fields are merged into the error body."""

    def __init__(self, reason: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.extra = extra


class ValidationFailed(DomainError):
    """Field-level validation failure (422 ``validation_failed``)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        first = next(iter(errors.values()))[0] if errors else "The given data was invalid."
        more = sum(len(v) for v in errors.values()) - 1
        message = first if more <= 0 else f"{first} (and {more} more error{'s' if more > 1 else ''})"
        super().__init__("validation_failed", message, errors=errors, validation_errors=errors)
        self.errors = errors


class WorkerRefusal(DomainError):
    """A refusal a worker answered with (a query task it failed); ``reason`` is the worker's.

    The HTTP layer answers these 404 when the worker said the name is unknown, else 409,
    whatever status the reason would otherwise have.
    """
