"""The workflows and activities the chaos workers run, and what each workflow must return.

Every activity execution appends JSON lines to the file named by ``$CHAOS_EXEC_LOG`` (one file per
worker process): ``start`` when it begins, then ``done`` just before it returns or ``fail`` when it
fails on purpose. The checker counts executions from these files and completions from the
histories, so the two are independent. A small ``os.write`` on an ``O_APPEND`` descriptor is
written whole and survives ``kill -9`` of the writer (the kernel holds it), so no fsync is needed.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, TypedDict

from durable_workflow import activity, workflow
from durable_workflow.workflow import ActivityRetryPolicy

EXEC_LOG_ENV = "CHAOS_EXEC_LOG"
ORDER = "chaos-order"
CHILD = "chaos-child"
STEP = "chaos-step"
SIGNAL = "add"
UPDATE = "approve"

# Generous attempts: a step is retried across worker deaths and timeouts, never given up on.
RETRY = ActivityRetryPolicy(
    max_attempts=50, initial_interval_seconds=1, backoff_coefficient=1.5, maximum_interval_seconds=3
)
MODES = ("plain", "flaky", "slow")


class Spec(TypedDict):
    """One chaos workflow's input: which features it exercises (chosen by the seeded driver)."""

    id: str
    gen: int
    modes: list[str]
    timer: int
    signals: int
    update: bool
    child: bool
    carried: dict[str, Any] | None


def _record(kind: str, wid: str, step: str, attempt: int) -> None:
    path = os.environ.get(EXEC_LOG_ENV)
    if not path:
        return
    line = json.dumps({"kind": kind, "wid": wid, "step": step, "attempt": attempt, "pid": os.getpid()})
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def step_result(wid: str, step: str) -> str:
    """What the step activity returns: the key the checker counts completions by."""
    return f"{wid}/{step}"


@activity.defn(name=STEP)
async def chaos_step(wid: str, step: str, mode: str) -> str:
    """One step: ``flaky`` fails its first attempt, ``slow`` heartbeats for about two seconds."""
    info = activity.context().info
    attempt = info.attempt_number
    _record("start", wid, step, attempt)
    if mode == "flaky" and attempt < 2:
        _record("fail", wid, step, attempt)
        raise RuntimeError(f"{wid}/{step} fails its first attempt on purpose")
    if mode == "slow":
        for tick in range(4):
            await activity.context().heartbeat({"tick": tick})
            await asyncio.sleep(0.5)
    _record("done", wid, step, attempt)
    return step_result(wid, step)


def _step_options(mode: str) -> dict[str, Any]:
    # Each mode meets a worker death another way: plain steps through the lease, flaky ones
    # through a start-to-close timeout, slow ones through their heartbeat timeout.
    if mode == "slow":
        return {"retry_policy": RETRY, "heartbeat_timeout": 4}
    if mode == "flaky":
        return {"retry_policy": RETRY, "start_to_close_timeout": 20}
    return {"retry_policy": RETRY}


@workflow.defn(name=CHILD)
def chaos_child(ctx: Any, wid: str) -> Any:
    """The child: one step and a timer."""
    done = yield ctx.schedule_activity(STEP, [wid, "child-s0", "plain"], retry_policy=RETRY)
    yield ctx.sleep(1)
    return f"child:{done}"


@workflow.defn(name=ORDER)
class ChaosOrder:
    """Steps, a timer, signals, an update, a child, then continue-as-new and a last step."""

    def __init__(self) -> None:
        self.signals: list[int] = []
        self.approval: str | None = None

    @workflow.signal(SIGNAL)
    def add(self, value: int) -> None:
        self.signals.append(value)

    @workflow.update(UPDATE)
    def approve(self, note: str) -> str:
        self.approval = note
        return f"approved:{note}"

    def run(self, ctx: Any, spec: Spec) -> Any:
        wid = spec["id"]
        if spec["gen"] == 0:
            steps = []
            for index, mode in enumerate(spec["modes"]):
                args = [wid, f"g0-s{index}", mode]
                steps.append((yield ctx.schedule_activity(STEP, args, **_step_options(mode))))
            yield ctx.sleep(spec["timer"])
            yield ctx.wait_condition(lambda: len(self.signals) >= spec["signals"], key="signals")
            if spec["update"]:
                yield ctx.wait_condition(lambda: self.approval is not None, key="approval")
            child = (yield ctx.start_child_workflow(CHILD, [wid])) if spec["child"] else None
            carried = {"steps": steps, "signals": sorted(self.signals), "approval": self.approval}
            carried["child"] = child
            return ctx.continue_as_new({**spec, "gen": 1, "carried": carried})
        final = yield ctx.schedule_activity(STEP, [wid, "g1-s0", "plain"], retry_policy=RETRY)
        yield ctx.sleep(1)
        return {**(spec["carried"] or {}), "final": final}


def expected_steps(spec: Spec) -> list[str]:
    """Every step key (``wid/step``) the workflow's runs and its child must complete once each."""
    wid = spec["id"]
    keys = [step_result(wid, f"g0-s{i}") for i in range(len(spec["modes"]))]
    keys.append(step_result(wid, "g1-s0"))
    if spec["child"]:
        keys.append(step_result(wid, "child-s0"))
    return keys


def update_note(wid: str) -> str:
    return f"note-{wid}"


def expected_result(spec: Spec) -> dict[str, Any]:
    """The final run's result when nothing was lost or delivered twice."""
    wid = spec["id"]
    return {
        "steps": [step_result(wid, f"g0-s{i}") for i in range(len(spec["modes"]))],
        "signals": list(range(spec["signals"])),
        "approval": update_note(wid) if spec["update"] else None,
        "child": f"child:{step_result(wid, 'child-s0')}" if spec["child"] else None,
        "final": step_result(wid, "g1-s0"),
    }
