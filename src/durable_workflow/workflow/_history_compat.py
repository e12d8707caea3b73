"""Reading history events of every shape we meet in the wild.

Worker-plane pages use ``event_type`` + ``recorded_at``; control-plane history uses
``timestamp``; exports use ``type`` (an event's type and payload are read by
``durable_workflow._wire``, re-exported here); hand-written fixtures (test and replay
histories written by people) carry no ids and no sequences. The replay engine only talks to
this module, so those differences stay here.

The central product is :func:`recorded_steps`: the ordered list of steps history recorded,
each paired with its resolution event **by workflow sequence** when the history has one, and by
position only when it does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .._wire import event_payload as event_payload
from .._wire import event_type as event_type
from ..errors import PayloadError
from ..protocol import codec
from ..protocol.history import EventType as E

# Events that define a step, keyed to the step kind they record.
SCHEDULING_KINDS: dict[str, str] = {
    E.ACTIVITY_SCHEDULED: "activity",
    E.TIMER_SCHEDULED: "timer",
    E.CHILD_WORKFLOW_SCHEDULED: "child_workflow",
    E.SIDE_EFFECT_RECORDED: "side_effect",
    E.VERSION_MARKER_RECORDED: "version_marker",
    E.SEARCH_ATTRIBUTES_UPSERTED: "search_attributes",
    E.CONDITION_WAIT_OPENED: "condition_wait",
}
# Events written with a step's scheduling that neither define a step nor end the batch of steps
# a completion scheduled: the server records a child's run right after its scheduling event.
BATCH_NEUTRAL = frozenset({E.CHILD_RUN_STARTED})
# Steps whose scheduling event is also their resolution.
SELF_RESOLVING = frozenset({E.SIDE_EFFECT_RECORDED, E.VERSION_MARKER_RECORDED, E.SEARCH_ATTRIBUTES_UPSERTED})
RESOLUTION_KINDS: dict[str, str] = {
    E.ACTIVITY_COMPLETED: "activity",
    E.ACTIVITY_FAILED: "activity",
    E.ACTIVITY_TIMED_OUT: "activity",
    E.ACTIVITY_CANCELLED: "activity",
    E.TIMER_FIRED: "timer",
    E.CHILD_RUN_COMPLETED: "child_workflow",
    E.CHILD_RUN_FAILED: "child_workflow",
    E.CHILD_RUN_CANCELLED: "child_workflow",
    E.CHILD_RUN_TERMINATED: "child_workflow",
    E.CONDITION_WAIT_SATISFIED: "condition_wait",
    E.CONDITION_WAIT_TIMED_OUT: "condition_wait",
}
# Timers the server schedules for its own waits; they are not steps of the workflow code.
INTERNAL_TIMER_KINDS = frozenset({"condition_timeout", "signal_timeout"})


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def workflow_sequence(payload: Mapping[str, Any]) -> int | None:
    """The step's workflow sequence: ``payload.sequence`` or ``payload.workflow_sequence``.

    The event's own top-level ``sequence`` is the history counter, not a step id, so it is
    deliberately not read here.
    """
    seq = _as_int(payload.get("sequence"))
    return seq if seq is not None else _as_int(payload.get("workflow_sequence"))


def parse_time(value: Any) -> datetime | None:
    """Parse an ISO-8601 timestamp (``Z`` accepted); naive values are taken as UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        # Python 3.10 rejects fractions that are not 3 or 6 digits; trim to microseconds.
        head, dot, rest = text.partition(".")
        if not dot:
            return None
        digits = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(digits) :]
        try:
            parsed = datetime.fromisoformat(f"{head}.{digits[:6].ljust(6, '0')}{tz}")
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def event_time(event: Mapping[str, Any]) -> datetime | None:
    """When the server recorded the event (``recorded_at`` or ``timestamp``)."""
    return parse_time(event.get("recorded_at")) or parse_time(event.get("timestamp"))


def decode_value(raw: Any, payload: Mapping[str, Any], default_codec: str | None) -> Any:
    """Decode a history value. Codec precedence: envelope > ``payload_codec`` > ``default_codec``."""
    codec_name = payload.get("payload_codec") or default_codec
    try:
        return codec.decode_payload(raw, codec_name)
    except codec.PayloadCodecError as exc:
        hint = ""
        if codec_name is None:
            hint = (
                " (the history names no codec, so values are read as JSON text;"
                " pass payload_codec='avro' if it holds Avro blobs)"
            )
        raise PayloadError(f"cannot decode history payload: {exc}{hint}", reason=exc.reason) from exc


def is_internal_timer(payload: Mapping[str, Any]) -> bool:
    """Condition/signal-wait timeout timers belong to the server, not to a code step."""
    return (
        payload.get("timer_kind") in INTERNAL_TIMER_KINDS
        or bool(payload.get("condition_wait_id"))
        or bool(payload.get("signal_wait_id"))
    )


def step_name_of(kind: str, payload: Mapping[str, Any]) -> str | None:
    """The name the code's command must match for this kind of step."""
    if kind == "activity":
        name = payload.get("activity_type")
    elif kind == "child_workflow":
        name = payload.get("child_workflow_type") or payload.get("workflow_type")
    elif kind == "version_marker":
        name = payload.get("change_id")
    elif kind == "condition_wait":
        name = payload.get("condition_key")
    else:
        return None
    return str(name) if name is not None else None


@dataclass
class RecordedStep:
    """One step history recorded, with its resolution once it has one."""

    kind: str
    name: str | None
    sequence: int | None
    event_type: str
    index: int  # position of the defining event in history
    payload: dict[str, Any]
    resolution: Mapping[str, Any] | None = None
    resolution_index: int | None = None
    batch: int = 0  # which contiguous run of scheduling events (one task completion) defined it

    @property
    def resolution_type(self) -> str | None:
        return event_type(self.resolution) if self.resolution is not None else None

    def describe(self) -> str:
        parts = [self.event_type]
        if self.name:
            parts.append(repr(self.name))
        if self.kind == "timer" and self.payload.get("delay_seconds") is not None:
            parts.append(f"({self.payload['delay_seconds']}s)")
        if self.sequence is not None:
            parts.append(f"(sequence {self.sequence})")
        return " ".join(parts)


def _condition_timer(payload: Mapping[str, Any], waits: Mapping[int, RecordedStep]) -> bool:
    """A timer the server scheduled for a condition wait's timeout (tagged, or sharing its sequence)."""
    if payload.get("timer_kind") == "condition_timeout" or payload.get("condition_wait_id"):
        return True
    seq = workflow_sequence(payload)
    return seq is not None and seq in waits


class StepRecorder:
    """Builds :func:`recorded_steps` incrementally: feed history in order, in one or more chunks.

    Every lookup is a dict or an amortised O(1) stack, so recording is linear in the events (a
    long run's replay used to rescan every step for every scheduling event). A worker that keeps
    a run's replay between tasks feeds only the events each new task adds.
    """

    def __init__(self) -> None:
        self.steps: list[RecordedStep] = []
        self.consumed = 0  # events fed so far (the next event's history position)
        self._by_sequence: dict[int, RecordedStep] = {}
        self._waits_by_sequence: dict[int, RecordedStep] = {}
        self._waits_by_id: dict[str, RecordedStep] = {}
        self._batch, self._in_batch = 0, False
        self._aliased: set[int] = set()  # ids of steps already matched by a re-emission in this batch
        # Unresolved blocking steps per batch, and the batches that had some, oldest first.
        self._open_count: dict[int, int] = {}
        self._open_batches: list[int] = []
        self._by_batch: dict[int, list[RecordedStep]] = {}
        self._open_waits: list[RecordedStep] = []  # condition waits in history order
        self._unsequenced: dict[str, list[RecordedStep]] = {}  # steps without a sequence, by kind
        self._unsequenced_at: dict[str, int] = {}

    def feed(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Record the next events of history (continuing where the last call stopped)."""
        for event in events:
            self._one(self.consumed, event)
            self.consumed += 1

    def _one(self, index: int, event: Mapping[str, Any]) -> None:
        etype = event_type(event)
        if etype in BATCH_NEUTRAL:
            return
        if etype not in SCHEDULING_KINDS:
            self._in_batch = False
        elif not self._in_batch:
            self._batch, self._in_batch, self._aliased = self._batch + 1, True, set()
        if etype in SCHEDULING_KINDS:
            self._scheduled(index, event, etype)
        elif etype in RESOLUTION_KINDS:
            self._resolved(index, event, etype)

    def _scheduled(self, index: int, event: Mapping[str, Any], etype: str) -> None:
        payload = event_payload(event)
        if etype == E.TIMER_SCHEDULED and (
            is_internal_timer(payload) or _condition_timer(payload, self._waits_by_sequence)
        ):
            return
        kind = SCHEDULING_KINDS[etype]
        seq = workflow_sequence(payload)
        if seq is not None and seq in self._by_sequence:
            return  # the same step reported twice; the first event defines it
        name = step_name_of(kind, payload)
        original = self._reemitted(kind, name)
        if original is not None:
            # SDK 0.4.84 re-sends still-open steps on every wake-up and the reference server
            # records them again; the re-sent step is the open one, under a second sequence.
            self._aliased.add(id(original))
            if seq is not None:
                self._by_sequence[seq] = original
            return
        step = RecordedStep(kind, name, seq, etype, index, payload, batch=self._batch)
        if etype in SELF_RESOLVING:
            step.resolution, step.resolution_index = event, index
        self._add(step)
        if kind in BLOCKING_KINDS and step.resolution is None:
            batch = self._batch
            self._open_count[batch] = self._open_count.get(batch, 0) + 1
            if not self._open_batches or self._open_batches[-1] != batch:
                self._open_batches.append(batch)
            self._by_batch.setdefault(batch, []).append(step)
        if kind == "condition_wait":
            self._open_waits.append(step)
            if seq is not None:
                self._waits_by_sequence[seq] = step
            if payload.get("condition_wait_id"):
                self._waits_by_id[str(payload["condition_wait_id"])] = step

    def _add(self, step: RecordedStep) -> None:
        self.steps.append(step)
        if step.sequence is not None:
            self._by_sequence.setdefault(step.sequence, step)
        elif step.resolution is None:
            self._unsequenced.setdefault(step.kind, []).append(step)

    def _resolved(self, index: int, event: Mapping[str, Any], etype: str) -> None:
        payload = event_payload(event)
        if etype == E.TIMER_FIRED:
            if payload.get("timer_kind") == "signal_timeout" or payload.get("signal_wait_id"):
                return
            kind = "condition_wait" if _condition_timer(payload, self._waits_by_sequence) else "timer"
        else:
            kind = RESOLUTION_KINDS[etype]
        target = self._target(kind, payload)
        if target is None:
            seq = workflow_sequence(payload)
            target = RecordedStep(kind, step_name_of(kind, payload), seq, etype, index, payload)
            self.steps.append(target)
            if seq is not None:
                self._by_sequence.setdefault(seq, target)
        if target.resolution is None:  # a late duplicate never overrides the first outcome
            target.resolution, target.resolution_index = event, index
            if target.name is None:
                target.name = step_name_of(kind, payload)
            if target.kind in BLOCKING_KINDS and target.batch in self._open_count:
                self._open_count[target.batch] -= 1

    def _reemitted(self, kind: str, name: str | None) -> RecordedStep | None:
        """The step a scheduling event re-sends, if it is a re-send.

        Workflow code cannot get past a yield until all of its steps are resolved, so a blocking
        step scheduled by a *later* completion while the group of an earlier completion still
        has an open step can only be a member of that group sent again (the reference SDK
        re-sends the whole group, resolved members included).
        """
        if kind not in BLOCKING_KINDS:
            return None
        group = self._latest_open_batch_before(self._batch)
        if group is None:
            return None
        for step in self._by_batch.get(group, ()):
            if step.kind == kind and step.name == name and id(step) not in self._aliased:
                return step
        return None

    def _latest_open_batch_before(self, batch: int) -> int | None:
        stack, counts = self._open_batches, self._open_count
        while stack and counts[stack[-1]] <= 0:
            stack.pop()
        if stack and stack[-1] >= batch:
            # The current batch itself is on top; drop closed batches right below it.
            while len(stack) > 1 and counts[stack[-2]] <= 0:
                del stack[-2]
            return stack[-2] if len(stack) > 1 else None
        return stack[-1] if stack else None

    def _target(self, kind: str, payload: Mapping[str, Any]) -> RecordedStep | None:
        if kind == "condition_wait" and payload.get("condition_wait_id"):
            found = self._waits_by_id.get(str(payload["condition_wait_id"]))
            if found is not None:
                return found
        seq = workflow_sequence(payload)
        found = self._by_sequence.get(seq) if seq is not None else None
        if found is not None and found.kind == kind:
            return found
        if kind == "condition_wait":
            # An unidentified satisfied/timed-out event answers the latest open wait: re-opened
            # waits leave the earlier opens unresolved.
            waits = self._open_waits
            while waits and waits[-1].resolution is not None:
                waits.pop()
            return waits[-1] if waits else None
        candidates = self._unsequenced.get(kind, [])
        at = self._unsequenced_at.get(kind, 0)
        while at < len(candidates) and candidates[at].resolution is not None:
            at += 1
        self._unsequenced_at[kind] = at
        return candidates[at] if at < len(candidates) else None


def recorded_steps(events: Iterable[Mapping[str, Any]]) -> list[RecordedStep]:
    """The steps recorded in ``events``, in the order the workflow code scheduled them.

    Scheduling events define steps in history order. A resolution event is attached to the
    step with the same identity (workflow sequence, or condition-wait id), so out-of-order
    completions of a fan-out land on the right step. A resolution without a usable identity
    (old or hand-written histories) takes the earliest unresolved step of its kind that has no
    sequence of its own, else it records a new, already-resolved step: that is the positional
    matching those histories were written for.

    Timers the server schedules for a condition wait's timeout are not steps; their firing
    resolves the wait as timed out.
    """
    recorder = StepRecorder()
    recorder.feed(events)
    return recorder.steps


BLOCKING_KINDS = frozenset({"activity", "timer", "child_workflow"})


def start_time(events: Iterable[Mapping[str, Any]]) -> datetime | None:
    """The run's logical start: ``WorkflowStarted.payload.timestamp``, else that event's time."""
    for event in events:
        if event_type(event) == E.WORKFLOW_STARTED:
            payload = event_payload(event)
            return parse_time(payload.get("timestamp")) or event_time(event)
    return None


def start_input(events: Iterable[Mapping[str, Any]], default_codec: str | None) -> Any:
    """The start input recorded on ``WorkflowStarted`` (``input_envelope``/``input``/``arguments``)."""
    for event in events:
        if event_type(event) == E.WORKFLOW_STARTED:
            payload = event_payload(event)
            for key in ("input_envelope", "input", "arguments"):
                if payload.get(key) is not None:
                    return decode_value(payload[key], payload, default_codec)
            return None
    return None


def started_payload(events: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The payload of the first ``WorkflowStarted`` event, if history has one."""
    for event in events:
        if event_type(event) == E.WORKFLOW_STARTED:
            return event_payload(event)
    return None
