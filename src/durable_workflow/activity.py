"""Activity definitions and the per-attempt activity context.

::

    from durable_workflow import activity

    @activity.defn(name="greet")
    async def greet(name: str) -> dict:
        ctx = activity.context()
        await ctx.heartbeat({"stage": "greeting"})
        return {"greeting": f"Hello, {name}!"}

Activities are plain async (or sync) functions; the worker calls them with the decoded
argument list and reports the return value (or the exception) back to the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, overload

from ._wire import ActivityTaskRead
from .errors import ActivityCancelled
from .protocol.wire import ActivityHeartbeatResponse

DEFINITION_ATTR = "__durable_activity_definition__"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ActivityDefinition:
    """The activity type key and the function that implements it."""

    name: str
    fn: Callable[..., Any]
    is_async: bool


@overload
def defn(fn: F, /) -> F: ...


@overload
def defn(*, name: str | None = None) -> Callable[[F], F]: ...


def defn(fn: Any = None, *, name: str | None = None) -> Any:
    """Declare an activity type; the decorated function is returned unchanged (signature intact).

    Args:
        fn: The function (when used as ``@activity.defn`` without arguments).
        name: The type key shared across languages; defaults to the function name.
    """

    def decorate(func: F) -> F:
        type_name = name if name is not None else getattr(func, "__name__", None)
        if not isinstance(type_name, str) or not type_name:
            raise TypeError("@activity.defn(name=...) must be a non-empty string")
        if not callable(func):
            raise TypeError("@activity.defn decorates a function")
        is_async = inspect.iscoroutinefunction(func)
        setattr(func, DEFINITION_ATTR, ActivityDefinition(type_name, func, is_async))
        return func

    if fn is not None:
        return decorate(fn)
    return decorate


def get_definition(obj: Any) -> ActivityDefinition:
    """The definition of a decorated activity; undecorated functions register by ``__name__``."""
    if isinstance(obj, ActivityDefinition):
        return obj
    definition = getattr(obj, DEFINITION_ATTR, None)
    if isinstance(definition, ActivityDefinition):
        return definition
    if callable(obj) and getattr(obj, "__name__", None):
        return ActivityDefinition(obj.__name__, obj, inspect.iscoroutinefunction(obj))
    raise TypeError(f"{obj!r} is not an activity function")


@dataclass(frozen=True)
class ActivityInfo:
    """What the server told the worker about this activity attempt."""

    task_id: str
    activity_type: str
    attempt_number: int = 1
    activity_attempt_id: str | None = None
    activity_execution_id: str | None = None
    workflow_id: str | None = None
    run_id: str | None = None
    task_queue: str | None = None
    payload_codec: str | None = None
    lease_expires_at: str | None = None
    deadlines: Mapping[str, Any] = field(default_factory=dict)
    retry_policy: Mapping[str, Any] | None = None

    @classmethod
    def from_task(cls, task: Mapping[str, Any], default_task_queue: str | None = None) -> ActivityInfo:
        """Build from an activity-task poll response (the ``task`` object)."""
        read = ActivityTaskRead.from_wire(task, worker_id="", task_queue=default_task_queue or "")
        info = cls.from_read(read)
        # The raw task may name no queue and the caller may give none: keep that visible.
        return info if info.task_queue else replace(info, task_queue=None)

    @classmethod
    def from_read(cls, task: ActivityTaskRead) -> ActivityInfo:
        """Build from a parsed activity task."""
        return cls(
            task_id=task.task_id,
            activity_type=task.activity_type,
            attempt_number=task.attempt_number,
            activity_attempt_id=task.attempt_id or None,
            activity_execution_id=task.activity_execution_id,
            workflow_id=task.workflow_id,
            run_id=task.run_id,
            task_queue=task.task_queue,
            payload_codec=task.payload_codec,
            lease_expires_at=task.lease_expires_at,
            deadlines=dict(task.deadlines),
            retry_policy=task.retry_policy,
        )


HeartbeatFn = Callable[..., Awaitable[ActivityHeartbeatResponse | None]]


class _Done:
    """An awaitable that is already finished: what a blocking ``heartbeat()`` returns."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # makes this a generator, as ``__await__`` must be


class ActivityContext:
    """Per-attempt handle: ``info``, ``heartbeat()`` and ``is_cancelled``.

    Created by the worker on its event loop. Plain ``def`` activities run in a worker thread
    and may still call :meth:`heartbeat`: the call is carried over to that loop.
    """

    def __init__(
        self,
        info: ActivityInfo,
        heartbeat: HeartbeatFn | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.info = info
        self._heartbeat = heartbeat
        self._cancelled = False
        if loop is None:
            with contextlib.suppress(RuntimeError):
                loop = asyncio.get_running_loop()
        self._loop = loop

    @property
    def is_cancelled(self) -> bool:
        """True once a heartbeat response said the server wants this attempt to stop."""
        return self._cancelled

    def heartbeat(
        self,
        details: Any = None,
        *,
        message: str | None = None,
        current: float | None = None,
        total: float | None = None,
        unit: str | None = None,
    ) -> Awaitable[None]:
        """Report liveness (and optional progress) to the server.

        In an ``async def`` activity, ``await ctx.heartbeat(...)``. In a plain ``def`` activity
        (run in a worker thread), call ``ctx.heartbeat(...)``: it blocks until the server has
        answered (awaiting its return value is harmless).

        Raises:
            ActivityCancelled: The workflow was cancelled or the activity is no longer wanted.
                It is a ``BaseException``; catch it by name to clean up, then re-raise.
        """
        send = self._send(details, message=message, current=current, total=total, unit=unit)
        if self._loop is None or _running_loop() is self._loop:
            return send
        # A worker thread: run the call on the worker's loop and wait for it here.
        asyncio.run_coroutine_threadsafe(send, self._loop).result()
        return _Done()

    async def _send(
        self,
        details: Any,
        *,
        message: str | None,
        current: float | None,
        total: float | None,
        unit: str | None,
    ) -> None:
        if self._heartbeat is None:
            return
        if details is not None and not isinstance(details, Mapping):
            details = {"value": details}
        response = await self._heartbeat(
            details=details, message=message, current=current, total=total, unit=unit
        )
        if response and response.get("cancel_requested"):
            self._cancelled = True
            raise ActivityCancelled(str(response.get("reason") or "activity cancelled"))

    def _mark_cancelled(self) -> None:
        self._cancelled = True


_current: contextvars.ContextVar[ActivityContext] = contextvars.ContextVar("durable_workflow_activity")


def context() -> ActivityContext:
    """The context of the activity attempt running in this task.

    Raises:
        RuntimeError: Called outside an activity.
    """
    try:
        return _current.get()
    except LookupError:
        raise RuntimeError("activity.context() called outside of an activity") from None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _set_context(ctx: ActivityContext) -> contextvars.Token[ActivityContext]:
    return _current.set(ctx)


def _reset_context(token: contextvars.Token[ActivityContext]) -> None:
    _current.reset(token)


# ActivityDefinition / get_definition are what the worker registers; not for activity authors.
__all__ = ["ActivityContext", "ActivityInfo", "context", "defn"]
