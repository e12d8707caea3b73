"""Testing workflow code without a server.

Two entry points, both driving the same replay engine the worker runs:

* :class:`WorkflowEnvironment` runs a workflow to completion in-process against registered
  activity and child-workflow mocks (timers fire at once on a logical clock);
* :func:`replay_history` / :func:`replay_history_file` / :class:`Replayer` replay a history
  captured from a server against the current code and raise
  :class:`~durable_workflow.errors.NonDeterministicReplayError` where the code diverges.

Example::

    from durable_workflow.testing import WorkflowEnvironment

    env = WorkflowEnvironment()
    env.register_activity_result("greet", "hello, world")
    assert env.execute_workflow(Greeter, "world") == "hello, world"
"""

from __future__ import annotations

from ..workflow._replay import ReplayOutcome
from ._environment import WorkflowEnvironment, WorkflowRunRecord
from ._replay import Replayer, load_history_file, replay_history, replay_history_file

__all__ = [
    "ReplayOutcome",
    "Replayer",
    "WorkflowEnvironment",
    "WorkflowRunRecord",
    "load_history_file",
    "replay_history",
    "replay_history_file",
]
