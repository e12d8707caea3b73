"""``WorkflowContext``: the deterministic API handed to workflow code as ``ctx``.

Every method either builds a command for the code to ``yield`` or reads state the replay
engine derives from history (clock, random seed, replay flag). Nothing here touches the wall
clock, the network or global randomness while history is being replayed.
"""

from __future__ import annotations

import hashlib
import logging
import random as _random
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from ._commands import (
    ActivityRetryPolicy,
    ChildWorkflowRetryPolicy,
    ContinueAsNew,
    RecordSideEffect,
    RecordVersionMarker,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    UpsertSearchAttributes,
    WaitCondition,
    _arguments,
    _ceil_seconds,
    predicate_fingerprint,
)
from ._commands import _optional_timeout as _timeout

REPLAY_LOGGER_NAME = "durable_workflow.workflow.replay"

_PARENT_CLOSE_POLICIES = frozenset({"abandon", "request_cancel", "terminate"})


def seed_for_run(run_id: str) -> int:
    """The RNG seed of a run: the first 64 bits of ``sha256(run_id)``."""
    return int(hashlib.sha256(run_id.encode()).hexdigest()[:16], 16)


class ReplayAwareLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger that stays silent while the engine replays steps history already recorded."""

    def __init__(self, logger: logging.Logger, context: WorkflowContext) -> None:
        super().__init__(logger, {})
        self._context = context

    def isEnabledFor(self, level: int) -> bool:
        if self._context.is_replaying:
            return False
        return bool(self.logger.isEnabledFor(level))

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = dict(kwargs.get("extra") or {})
        extra.setdefault("workflow_type", self._context.workflow_type)
        extra.setdefault("workflow_id", self._context.workflow_id)
        extra.setdefault("run_id", self._context.run_id)
        kwargs["extra"] = extra
        return msg, kwargs


class WorkflowContext:
    """Deterministic operations available to workflow code.

    Attributes:
        workflow_type: The running workflow's type key.
        workflow_id: The workflow instance id (empty in pure replays that do not know it).
        run_id: The run id; seeds :meth:`random`.
        task_queue: The run's task queue, when known.
    """

    def __init__(
        self,
        *,
        workflow_type: str = "",
        workflow_id: str = "",
        run_id: str = "",
        task_queue: str | None = None,
        start_time: datetime | None = None,
    ) -> None:
        self.workflow_type = workflow_type
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.task_queue = task_queue
        self._now = start_time
        self._rng = _random.Random(seed_for_run(run_id))
        self._replaying = False
        self.logger: logging.LoggerAdapter = ReplayAwareLogger(  # type: ignore[type-arg]
            logging.getLogger(REPLAY_LOGGER_NAME), self
        )

    # -- state driven by the replay engine -------------------------------------------------

    @property
    def is_replaying(self) -> bool:
        """True while the code re-executes steps history already holds."""
        return self._replaying

    def _advance_clock(self, moment: datetime | None) -> None:
        if moment is not None and (self._now is None or moment > self._now):
            self._now = moment

    # -- deterministic helpers -------------------------------------------------------------

    def now(self) -> datetime:
        """The workflow's logical time (timezone-aware UTC).

        It starts at the run's start time and moves to the time each awaited result was
        recorded, so every replay of the same history sees the same values.
        """
        if self._now is None:
            # Only reachable for histories that carry no timestamps at all (hand-written
            # fixtures); there is no recorded time to be deterministic with.
            return datetime.now(timezone.utc)
        return self._now

    def random(self) -> _random.Random:
        """A ``random.Random`` seeded from the run id; identical on every replay."""
        return self._rng

    def uuid4(self) -> uuid.UUID:
        """A version-4 UUID drawn from :meth:`random`, so replays reproduce it."""
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)

    # -- commands ---------------------------------------------------------------------------

    def schedule_activity(
        self,
        activity_type: str,
        args: Sequence[Any] | None = None,
        *,
        retry_policy: ActivityRetryPolicy | None = None,
        start_to_close_timeout: float | None = None,
        schedule_to_close_timeout: float | None = None,
        schedule_to_start_timeout: float | None = None,
        heartbeat_timeout: float | None = None,
        task_queue: str | None = None,
    ) -> ScheduleActivity:
        """Schedule activity ``activity_type``; ``yield`` it to wait for its result.

        Timeouts are seconds (rounded up to whole seconds, the server's resolution).
        """
        if not isinstance(activity_type, str) or not activity_type:
            raise TypeError("activity_type must be a non-empty string")
        return ScheduleActivity(
            activity_type=activity_type,
            arguments=_arguments(args),
            task_queue=task_queue,
            retry_policy=retry_policy,
            start_to_close_timeout=_timeout(start_to_close_timeout, "start_to_close_timeout"),
            schedule_to_close_timeout=_timeout(schedule_to_close_timeout, "schedule_to_close_timeout"),
            schedule_to_start_timeout=_timeout(schedule_to_start_timeout, "schedule_to_start_timeout"),
            heartbeat_timeout=_timeout(heartbeat_timeout, "heartbeat_timeout"),
        )

    def start_timer(self, seconds: float) -> StartTimer:
        """A durable sleep of ``seconds`` (rounded up to whole seconds); ``yield`` it."""
        return StartTimer(delay_seconds=_ceil_seconds(seconds, "seconds"))

    def sleep(self, seconds: float) -> StartTimer:
        """Alias of :meth:`start_timer`."""
        return self.start_timer(seconds)

    def start_child_workflow(
        self,
        workflow_type: str,
        args: Sequence[Any] | None = None,
        *,
        task_queue: str | None = None,
        parent_close_policy: str | None = None,
        retry_policy: ChildWorkflowRetryPolicy | None = None,
        execution_timeout_seconds: float | None = None,
        run_timeout_seconds: float | None = None,
    ) -> StartChildWorkflow:
        """Start a child workflow; ``yield`` it to wait for the child's result."""
        if not isinstance(workflow_type, str) or not workflow_type:
            raise TypeError("workflow_type must be a non-empty string")
        if parent_close_policy is not None and parent_close_policy not in _PARENT_CLOSE_POLICIES:
            raise ValueError(f"parent_close_policy must be one of {sorted(_PARENT_CLOSE_POLICIES)}")
        return StartChildWorkflow(
            workflow_type=workflow_type,
            arguments=_arguments(args),
            task_queue=task_queue,
            parent_close_policy=parent_close_policy,
            retry_policy=retry_policy,
            execution_timeout_seconds=_timeout(execution_timeout_seconds, "execution_timeout_seconds"),
            run_timeout_seconds=_timeout(run_timeout_seconds, "run_timeout_seconds"),
        )

    def side_effect(self, fn: Callable[[], Any]) -> RecordSideEffect:
        """Capture ``fn()`` once; ``yield`` it to get the value (recorded value on replay)."""
        if not callable(fn):
            raise TypeError("side_effect takes a zero-argument callable")
        return RecordSideEffect(fn=fn)

    def get_version(self, change_id: str, min_supported: int, max_supported: int) -> RecordVersionMarker:
        """Branch safely on a code change; ``yield`` it to get the version this run follows.

        New runs get ``max_supported``. Runs whose history predates the change (no marker where
        the code now asks) get ``min_supported``.
        """
        if not min_supported <= max_supported:
            raise ValueError("min_supported must be <= max_supported")
        return RecordVersionMarker(change_id, max_supported, min_supported, max_supported)

    def upsert_search_attributes(self, attributes: Mapping[str, Any]) -> UpsertSearchAttributes:
        """Merge ``attributes`` into the run's search attributes; ``yield`` it."""
        if not isinstance(attributes, Mapping) or not attributes:
            raise ValueError("attributes must be a non-empty mapping")
        return UpsertSearchAttributes(dict(attributes))

    def continue_as_new(
        self, *args: Any, workflow_type: str | None = None, task_queue: str | None = None
    ) -> ContinueAsNew:
        """Build a :class:`ContinueAsNew`; ``return`` it from ``run``."""
        return ContinueAsNew(*args, workflow_type=workflow_type, task_queue=task_queue)

    def wait_condition(
        self, predicate: Callable[[], Any], *, key: str | None = None, timeout: float | None = None
    ) -> WaitCondition:
        """Wait until ``predicate()`` is true; ``yield`` it to get ``True`` (or ``False`` on timeout).

        The predicate reads workflow state that signal and update handlers change. It is
        evaluated when the code reaches the wait and again whenever a signal or update arrives.

        Args:
            predicate: A zero-argument callable over workflow state; it must not have effects.
            key: A stable name for this wait. Give one: history matches the wait by it, so the
                predicate can be refactored freely. Without a key the predicate's identity is
                used instead.
            timeout: Seconds (rounded up) after which the wait gives up and yields ``False``.
        """
        if not callable(predicate):
            raise TypeError("wait_condition takes a zero-argument callable")
        if key is not None and (not isinstance(key, str) or not key):
            raise TypeError("key must be a non-empty string")
        timeout_seconds = None if timeout is None else _ceil_seconds(timeout, "timeout")
        return WaitCondition(
            predicate=predicate,
            condition_key=key,
            fingerprint=predicate_fingerprint(predicate),
            timeout_seconds=timeout_seconds,
        )
