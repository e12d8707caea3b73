"""The chaos report: what ran, what was killed, what was retried, and every violation."""

from __future__ import annotations

from dataclasses import dataclass, field

from .driver import DriverStats
from .faults import FaultLog


@dataclass
class ChaosReport:
    """Counts of one run. ``violations`` is the verdict: the run passes when it is empty."""

    seed: int = 0
    backend: str = ""
    servers: int = 0
    workers: int = 0
    seconds: float = 0.0
    workflows: int = 0
    completed: int = 0
    runs: int = 0
    child_workflows: int = 0
    events: int = 0
    steps: int = 0
    activity_executions: int = 0
    planned_failures: int = 0
    redeliveries: int = 0
    abandoned_executions: int = 0
    steps_run_to_completion_twice: int = 0
    history_retries: int = 0
    activity_timeouts: int = 0
    timers_fired: int = 0
    signals: int = 0
    updates: int = 0
    worker_5xx: int = 0
    server_tracebacks: int = 0
    slowest: tuple[float, str] = (0.0, "")  # the workflow that took longest, start to close
    fault_log: FaultLog = field(default_factory=FaultLog)
    driver: DriverStats = field(default_factory=DriverStats)
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def format(self) -> str:
        """The printed report (quoted in the README)."""
        faults, driver = self.fault_log, self.driver
        lines = [
            f"chaos report: backend={self.backend} servers={self.servers} workers={self.workers} "
            f"seed={self.seed} ({self.seconds:.0f}s)",
            f"  workflows        {self.workflows} started, {self.completed} completed with the right result"
            f" ({self.runs} runs incl. continue-as-new, {self.child_workflows} child workflows,"
            f" {self.events} history events); slowest {self.slowest[0]:.0f}s ({self.slowest[1]})",
            f"  kills            {faults.server_kills} servers, {faults.worker_kills} workers"
            f" ({faults.new_worker_ids} workers came back under a new id)",
            f"  activity steps   {self.steps} completed once each; {self.activity_executions} executions"
            f" ({self.planned_failures} failed on purpose, {self.redeliveries} redelivered after a"
            f" lost lease/timeout, {self.abandoned_executions} cut off by a kill,"
            f" {self.steps_run_to_completion_twice} ran to the end twice but completed once)",
            f"  retries          {self.history_retries} ActivityRetryScheduled,"
            f" {self.activity_timeouts} activity timeouts",
            f"  messages         {self.timers_fired} timers fired once each, {self.signals} signals"
            f" delivered once each, {self.updates} updates applied once each",
            f"  client retries   {driver.transport_failures} transport failures,"
            f" {driver.update_resends_avoided} update re-sends avoided (already recorded)",
            f"  server errors    {driver.server_errors} 5xx to the driver, {self.worker_5xx} 5xx to workers,"
            f" {self.server_tracebacks} tracebacks in server logs",
            f"  violations       {len(self.violations)}",
        ]
        lines += [f"    - {v}" for v in self.violations[:50]]
        if len(self.violations) > 50:
            lines.append(f"    ... and {len(self.violations) - 50} more")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)
