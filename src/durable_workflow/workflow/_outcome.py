"""What one replay produced: the commands the workflow code emits next."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._commands import Command, CompleteWorkflow, ContinueAsNew, FailWorkflow
from ._diagnostics import YieldSite


@dataclass
class ReplayOutcome:
    """What a replay produced.

    Attributes:
        commands: The commands the workflow emits next (new steps, then at most one terminal
            command). Never empty for a workflow that is blocked or finished.
        workflow_instance: The workflow object after replay (``None`` for function
            workflows); query handlers read their state from it.
        resent: ``True`` when the code is blocked on steps history already holds and
            ``commands`` re-send that yield (a completion must carry at least one command; the
            server maps them onto the open steps, so nothing runs twice).
        sites: For each command, the workflow code line that yielded it (``None`` for the
            terminal command).
        recorded: How many steps history recorded (what the code replayed through).
    """

    commands: list[Command] = field(default_factory=list)
    workflow_instance: Any = None
    resent: bool = False
    sites: list[YieldSite | None] = field(default_factory=list)
    recorded: int = 0

    @property
    def terminal(self) -> Command | None:
        """The terminal command, if the workflow finished in this replay."""
        if self.commands and isinstance(self.commands[-1], (CompleteWorkflow, FailWorkflow, ContinueAsNew)):
            return self.commands[-1]
        return None
