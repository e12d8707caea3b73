"""The durable-workflow engine: everything between the HTTP layer and the store.

The HTTP layer uses three modules only: :mod:`.api` (the ``EngineAPI`` protocol and its request
types), :mod:`.service` (``Engine``) and :mod:`.errors`. Inside, the code is grouped by noun,
mirroring the tables; each noun's folder holds that table's statements in ``rows.py`` and the
operations on it:

* ``runs/`` — ``workflow_instances`` and ``workflow_runs``: creating and closing runs, the wake
  rule over a run's steps, run timeouts, describe/list rows;
* ``workflow_tasks/`` — ``workflow_tasks`` (with a retried poll's lease): claims, leases (fence,
  release, expiry), outcomes (heartbeat, complete, fail) and applying a completion's commands;
* ``activities/`` — executions, tasks and attempts: scheduling, claims, outcomes, retries,
  deadlines and timeouts, leases;
* ``timers/`` — starting and firing durable timers;
* ``workers/`` — the worker registry;
* ``history/`` — appending events, their wire shapes, worker pages and the export bundle.

Shared machinery is named for what it is: :mod:`.transaction` (``Tx``), :mod:`.core` (settings,
store, post-commit wake-ups), :mod:`.background_loop`, :mod:`.waiters` (long polls),
:mod:`.queues` (claim order over either task table), :mod:`.broadcast` (wake-ups across
processes), :mod:`.rendering` (stored values that cannot be rendered). The two planes' methods
live in :mod:`.control` and :mod:`.worker_plane`.

Lock order: a transaction that writes a run's rows locks the run row first, then that run's
task, timer or attempt rows; a claim that skip-locked its candidates first never waits for their
runs (see :mod:`.runs.rows` and :mod:`.queues`).
"""
