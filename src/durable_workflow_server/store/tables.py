"""The database schema, as SQLAlchemy Core tables.

Times are stored as timezone-aware UTC datetimes (:class:`UTCDateTime` keeps SQLite, which has no
time-zone type, and PostgreSQL returning the same aware values). JSON columns hold plain JSON;
payload blobs are the base64 text the wire carries, stored verbatim.

Due-time columns (``available_at``, ``lease_expires_at``, ``fire_at``, ``timeout_at``) are indexed
(on tasks and timers together with their status) so the background loop and the pollers find due
work with one index range scan.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .timestamps import UTCDateTime

metadata = sa.MetaData()


def _ts(name: str, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


namespaces = sa.Table(
    "namespaces",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("retention_days", sa.Integer(), nullable=False, server_default="30"),
    sa.Column("status", sa.String(32), nullable=False, server_default="active"),
    sa.Column("external_payload_storage", sa.JSON(), nullable=True),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
)

workflow_instances = sa.Table(
    "workflow_instances",
    metadata,
    sa.Column("workflow_id", sa.String(191), primary_key=True),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("workflow_type", sa.String(255), nullable=False),
    sa.Column("current_run_id", sa.String(64), nullable=True),
    sa.Column("run_count", sa.Integer(), nullable=False, server_default="0"),
    _ts("created_at", nullable=False),
    sa.Index("ix_workflow_instances_namespace", "namespace"),
)

workflow_runs = sa.Table(
    "workflow_runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("workflow_id", sa.String(191), nullable=False),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("run_number", sa.Integer(), nullable=False),
    sa.Column("workflow_type", sa.String(255), nullable=False),
    sa.Column("task_queue", sa.String(255), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("closed_reason", sa.String(32), nullable=True),
    sa.Column("business_key", sa.String(255), nullable=True),
    sa.Column("memo", sa.JSON(), nullable=True),
    sa.Column("search_attributes", sa.JSON(), nullable=True),
    sa.Column("payload_codec", sa.String(64), nullable=False),
    sa.Column("input_blob", sa.Text(), nullable=True),
    sa.Column("output_codec", sa.String(64), nullable=True),
    sa.Column("output_blob", sa.Text(), nullable=True),
    sa.Column("execution_timeout_seconds", sa.Integer(), nullable=True),
    sa.Column("run_timeout_seconds", sa.Integer(), nullable=True),
    _ts("execution_deadline_at"),
    _ts("run_deadline_at"),
    # The earlier of the two deadlines while the run is open, ``NULL`` once it closed: the
    # background loop finds runs to time out with one range scan over this index.
    _ts("timeout_at"),
    _ts("started_at", nullable=False),
    _ts("closed_at"),
    _ts("last_progress_at"),
    sa.Column("last_history_sequence", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("wait_kind", sa.String(32), nullable=True),
    sa.Column("wait_reason", sa.Text(), nullable=True),
    # A child run's parent (set when a parent's start_child_workflow created it).
    sa.Column("parent_run_id", sa.String(64), nullable=True),
    sa.Column("parent_workflow_id", sa.String(191), nullable=True),
    sa.Column("parent_link_id", sa.String(64), nullable=True),
    # Paused runs get no new workflow or activity dispatches (their tasks wait as 'paused').
    _ts("paused_at"),
    sa.Column("pause_reason", sa.Text(), nullable=True),
    _ts("archived_at"),
    sa.Column("archive_reason", sa.Text(), nullable=True),
    sa.Column("archive_command_id", sa.String(64), nullable=True),
    # The build-id cohort the run is pinned to (0009_task_queues): set at creation when the
    # queue has a promoted cohort; only workers of that build claim its workflow tasks. ``''``
    # pins to the unversioned cohort, ``NULL`` is not pinned (any build).
    sa.Column("pinned_build_key", sa.String(255), nullable=True),
    # The worker that keeps this run's replay between its workflow tasks, and the history
    # sequence that replay has seen (0012_sticky_workflow_tasks; see workflow_tasks/sticky.py).
    sa.Column("sticky_worker_id", sa.String(255), nullable=True),
    sa.Column("sticky_history_sequence", sa.Integer(), nullable=True),
    sa.UniqueConstraint("workflow_id", "run_number", name="uq_workflow_runs_workflow_run_number"),
    sa.Index("ix_workflow_runs_namespace_started", "namespace", "started_at", "run_id"),
    # Partial (0016_partial_run_indexes): most runs have neither, and both are read for a value.
    sa.Index(
        "ix_workflow_runs_timeout_at",
        "timeout_at",
        sqlite_where=sa.text("timeout_at IS NOT NULL"),
        postgresql_where=sa.text("timeout_at IS NOT NULL"),
    ),
    # A stopping worker's runs lose their stickiness with one index lookup.
    sa.Index(
        "ix_workflow_runs_sticky_worker",
        "sticky_worker_id",
        sqlite_where=sa.text("sticky_worker_id IS NOT NULL"),
        postgresql_where=sa.text("sticky_worker_id IS NOT NULL"),
    ),
)

history_events = sa.Table(
    "history_events",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("workflow_task_id", sa.String(64), nullable=True),
    sa.Column("workflow_command_id", sa.String(64), nullable=True),
    _ts("recorded_at", nullable=False),
    # Gap-free, duplicate-free per run: two writers racing for a sequence fail here, not silently.
    sa.UniqueConstraint("run_id", "sequence", name="uq_history_events_run_sequence"),
)

workflow_tasks = sa.Table(
    "workflow_tasks",
    metadata,
    sa.Column("task_id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("workflow_id", sa.String(191), nullable=False),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("task_queue", sa.String(255), nullable=False),
    sa.Column("workflow_type", sa.String(255), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),  # ready | leased | completed | failed | cancelled
    _ts("available_at", nullable=False),
    sa.Column("lease_owner", sa.String(255), nullable=True),
    _ts("lease_expires_at"),
    sa.Column("attempt_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text(), nullable=True),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    # The run's last_history_sequence when the current lease was taken (what the worker replays).
    sa.Column("history_sequence", sa.Integer(), nullable=True),
    # Set on a task that carries an accepted update (the worker answers that update only).
    sa.Column("workflow_update_id", sa.String(191), nullable=True),
    # The run's pinned build-id cohort, copied at insert (0009_task_queues) so a claim's candidate
    # query skips tasks of runs pinned to another build without joining the run.
    sa.Column("pinned_build_key", sa.String(255), nullable=True),
    # Only this worker may claim the task during the sticky schedule-to-start window
    # (0012_sticky_workflow_tasks), copied from the run when the task is queued.
    sa.Column("sticky_worker_id", sa.String(255), nullable=True),
    # The poll (its poll_request_id) the current lease was handed to, and until when a transport
    # retry of that poll gets this lease back (0015_poll_request_on_task); NULL when the lease was
    # handed out without one. Every claim writes both.
    sa.Column("poll_request_id", sa.String(255), nullable=True),
    _ts("poll_expires_at"),
    # The claim order (available_at, task_id) is the index order: a claim reads a range (0013).
    sa.Index("ix_workflow_tasks_queue_due", "namespace", "task_queue", "status", "available_at", "task_id"),
    sa.Index("ix_workflow_tasks_lease_due", "status", "lease_expires_at"),
    sa.Index("ix_workflow_tasks_run", "run_id", "status", "lease_expires_at"),
    # Only tasks leased to a poll that named itself: a retried poll's one-row lookup.
    sa.Index(
        "ix_workflow_tasks_poll_request",
        "poll_request_id",
        sqlite_where=sa.text("poll_request_id IS NOT NULL"),
        postgresql_where=sa.text("poll_request_id IS NOT NULL"),
    ),
)

activity_executions = sa.Table(
    "activity_executions",
    metadata,
    sa.Column("activity_execution_id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("workflow_id", sa.String(191), nullable=False),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("batch_id", sa.String(64), nullable=False),
    sa.Column("activity_type", sa.String(255), nullable=False),
    sa.Column("task_queue", sa.String(255), nullable=False),
    sa.Column("payload_codec", sa.String(64), nullable=False),
    sa.Column("arguments_blob", sa.Text(), nullable=True),
    sa.Column("retry_policy", sa.JSON(), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),  # pending | running | completed | failed | cancelled
    sa.Column("attempt_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("current_attempt_id", sa.String(64), nullable=True),
    sa.Column("result_blob", sa.Text(), nullable=True),
    _ts("scheduled_at", nullable=False),
    _ts("closed_at"),
    # The latest failed attempt of an execution waiting for its retry (see runs/waiting.py).
    sa.Column("last_failure", sa.JSON(), nullable=True),
    sa.Index("ix_activity_executions_run", "run_id", "sequence"),
)

activity_tasks = sa.Table(
    "activity_tasks",
    metadata,
    sa.Column("task_id", sa.String(64), primary_key=True),
    sa.Column("activity_execution_id", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("task_queue", sa.String(255), nullable=False),
    sa.Column("activity_type", sa.String(255), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),  # ready | leased | completed | failed | cancelled
    _ts("available_at", nullable=False),
    sa.Column("lease_owner", sa.String(255), nullable=True),
    _ts("lease_expires_at"),
    sa.Column("current_attempt_id", sa.String(64), nullable=True),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    # Activity timeout deadlines (see docs/protocol.md) of this task and its current attempt, and
    # ``timeout_at``: the earliest of them that can fire in the task's current status.
    _ts("schedule_to_start_deadline_at"),
    _ts("start_to_close_deadline_at"),
    _ts("schedule_to_close_deadline_at"),
    _ts("heartbeat_deadline_at"),
    _ts("timeout_at"),
    sa.Index("ix_activity_tasks_queue_due", "namespace", "task_queue", "status", "available_at", "task_id"),
    sa.Index("ix_activity_tasks_lease_due", "status", "lease_expires_at"),
    sa.Index("ix_activity_tasks_timeout_due", "status", "timeout_at"),
)

activity_attempts = sa.Table(
    "activity_attempts",
    metadata,
    sa.Column("attempt_id", sa.String(64), primary_key=True),
    sa.Column("task_id", sa.String(64), nullable=False),
    sa.Column("activity_execution_id", sa.String(64), nullable=False),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("attempt_number", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),  # running | completed | failed | expired | cancelled
    sa.Column("lease_owner", sa.String(255), nullable=False),
    _ts("started_at", nullable=False),
    _ts("closed_at"),
    _ts("last_heartbeat_at"),
    sa.Column("progress", sa.JSON(), nullable=True),
    sa.Index("ix_activity_attempts_execution", "activity_execution_id"),
)

timers = sa.Table(
    "timers",
    metadata,
    sa.Column("timer_id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("batch_id", sa.String(64), nullable=False),
    sa.Column("delay_seconds", sa.Integer(), nullable=False),
    _ts("fire_at", nullable=False),
    sa.Column("status", sa.String(32), nullable=False),  # pending | fired | cancelled
    _ts("fired_at"),
    _ts("created_at", nullable=False),
    # NULL for a durable timer (a workflow step); otherwise what the timer is for
    # ('condition_timeout', 'child_retry', ...) and the row it belongs to (``target_id``).
    sa.Column("timer_kind", sa.String(32), nullable=True),
    sa.Column("target_id", sa.String(191), nullable=True),
    sa.Index("ix_timers_due", "status", "fire_at"),
    # ``status`` too (0017_timers_run_status): a completion's "pending timer of this run?" must
    # not take ix_timers_due for ``status = ?`` and walk every run's pending timers.
    sa.Index("ix_timers_run", "run_id", "status", "sequence"),
)

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("namespace", sa.String(128), primary_key=True),
    sa.Column("worker_id", sa.String(255), primary_key=True),
    sa.Column("task_queue", sa.String(255), nullable=False),
    sa.Column("runtime", sa.String(64), nullable=False),
    sa.Column("sdk_version", sa.String(64), nullable=True),
    sa.Column("build_id", sa.String(255), nullable=True),
    sa.Column("supported_workflow_types", sa.JSON(), nullable=False),
    sa.Column("supported_activity_types", sa.JSON(), nullable=False),
    sa.Column("workflow_definition_fingerprints", sa.JSON(), nullable=False),
    sa.Column("max_concurrent_workflow_tasks", sa.Integer(), nullable=False),
    sa.Column("max_concurrent_activity_tasks", sa.Integer(), nullable=False),
    sa.Column("capabilities", sa.JSON(), nullable=False),
    sa.Column("task_slots", sa.JSON(), nullable=True),
    sa.Column("process_metrics", sa.JSON(), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    _ts("last_heartbeat_at", nullable=False),
    _ts("registered_at", nullable=False),
    sa.Index("ix_workers_queue", "namespace", "task_queue"),
    # The background loop prunes long-stale registrations with one range scan (0009_task_queues).
    sa.Index("ix_workers_heartbeat", "last_heartbeat_at"),
)

# Signals received by a run: recorded in history as SignalReceived; a retried POST with the same
# request_id to the same run finds its first row (uq_signals_request) and records nothing. Per
# run, so a new run under a reused workflow id takes every signal sent to it.
signals = sa.Table(
    "signals",
    metadata,
    sa.Column("signal_id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("workflow_id", sa.String(191), nullable=False),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("signal_name", sa.String(512), nullable=False),
    sa.Column("payload_codec", sa.String(64), nullable=False),
    sa.Column("arguments_blob", sa.Text(), nullable=True),
    sa.Column("request_id", sa.String(255), nullable=True),
    sa.Column("command_id", sa.String(64), nullable=False),
    sa.Column("history_sequence", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),  # received | applied
    _ts("received_at", nullable=False),
    _ts("applied_at"),
    sa.UniqueConstraint("run_id", "request_id", name="uq_signals_request"),
    sa.Index("ix_signals_run", "run_id", "status"),
)

# Updates: accepted (UpdateAccepted), then completed or failed by the worker's update command.
updates = sa.Table(
    "updates",
    metadata,
    sa.Column("update_id", sa.String(191), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("workflow_id", sa.String(191), nullable=False),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("update_name", sa.String(512), nullable=False),
    sa.Column("payload_codec", sa.String(64), nullable=False),
    sa.Column("arguments_blob", sa.Text(), nullable=True),
    sa.Column("request_id", sa.String(255), nullable=True),
    sa.Column("command_id", sa.String(64), nullable=False),
    sa.Column("history_sequence", sa.Integer(), nullable=True),
    sa.Column("workflow_sequence", sa.Integer(), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),  # accepted | rejected | completed | failed
    sa.Column("result_codec", sa.String(64), nullable=True),
    sa.Column("result_blob", sa.Text(), nullable=True),
    sa.Column("failure", sa.JSON(), nullable=True),
    _ts("accepted_at"),
    _ts("applied_at"),
    _ts("closed_at"),
    _ts("rejected_at"),
    sa.Index("ix_updates_run", "run_id", "status"),
)

# ctx.wait_condition waits (ConditionWaitOpened ... Satisfied / TimedOut).
condition_waits = sa.Table(
    "condition_waits",
    metadata,
    sa.Column("condition_wait_id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("condition_key", sa.String(255), nullable=True),
    sa.Column("condition_definition_fingerprint", sa.String(255), nullable=True),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("batch_id", sa.String(64), nullable=False),
    sa.Column("timeout_seconds", sa.Integer(), nullable=True),
    sa.Column("timer_id", sa.String(64), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),  # open | satisfied | timed_out | cancelled
    _ts("opened_at", nullable=False),
    _ts("closed_at"),
    sa.Index("ix_condition_waits_run", "run_id", "status"),
)

# A parent's child workflow step: one link per start_child_workflow, across the child's retries.
child_links = sa.Table(
    "child_links",
    metadata,
    sa.Column("link_id", sa.String(64), primary_key=True),
    sa.Column("parent_run_id", sa.String(64), nullable=False),
    sa.Column("parent_workflow_id", sa.String(191), nullable=False),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("batch_id", sa.String(64), nullable=False),
    sa.Column("child_workflow_id", sa.String(191), nullable=False),
    sa.Column("child_run_id", sa.String(64), nullable=True),
    sa.Column("child_workflow_type", sa.String(255), nullable=False),
    sa.Column("task_queue", sa.String(255), nullable=False),
    sa.Column("payload_codec", sa.String(64), nullable=False),
    sa.Column("arguments_blob", sa.Text(), nullable=True),
    sa.Column("parent_close_policy", sa.String(32), nullable=False),
    sa.Column("retry_policy", sa.JSON(), nullable=True),
    sa.Column("execution_timeout_seconds", sa.Integer(), nullable=True),
    sa.Column("run_timeout_seconds", sa.Integer(), nullable=True),
    sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("status", sa.String(32), nullable=False),  # open | completed | failed | cancelled | terminated
    _ts("created_at", nullable=False),
    _ts("closed_at"),
    sa.Index("ix_child_links_parent", "parent_run_id", "sequence"),
    sa.Index("ix_child_links_child", "child_workflow_id"),
)

# Query tasks (and pre-accept update validations) handed to live workers; never history. A row
# lives only while its caller waits (expires_at), so every server process sharing the database
# can hand it out and deliver its answer.
query_tasks = sa.Table(
    "query_tasks",
    metadata,
    sa.Column("query_task_id", sa.String(64), primary_key=True),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("task_queue", sa.String(255), nullable=False),
    sa.Column("workflow_id", sa.String(191), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("workflow_type", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # query | update_validation
    sa.Column("query_name", sa.String(512), nullable=False),
    sa.Column("arguments", sa.JSON(), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),  # pending | leased | completed | failed
    sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("lease_owner", sa.String(255), nullable=True),
    _ts("lease_expires_at"),
    sa.Column("result", sa.JSON(), nullable=True),
    sa.Column("failure", sa.JSON(), nullable=True),
    _ts("created_at", nullable=False),
    _ts("expires_at", nullable=False),
    sa.Index("ix_query_tasks_queue", "namespace", "task_queue", "status", "created_at"),
    sa.Index("ix_query_tasks_expires", "expires_at"),
)

# ---- namespaces and external payload storage (0006_namespaces_storage)

# One row per (run, stored object) the run's history refers to: what retention deletes with the
# run. An object another run also refers to (a child's output in its parent's history, an input
# carried by continue-as-new) is deleted only with the last run referring to it.
external_payloads = sa.Table(
    "external_payloads",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("uri", sa.String(2048), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size_bytes", sa.BigInteger(), nullable=False),
    sa.Column("codec", sa.String(64), nullable=False),
    _ts("created_at", nullable=False),
    sa.Index("ix_external_payloads_run", "run_id"),
    sa.Index("ix_external_payloads_namespace_uri", "namespace", "uri"),
)


# ---- schedules (0007_schedules)
# A schedule of one namespace; deleting one keeps the row (status 'deleted') so its audit history
# stays readable and the id can be created again. ``next_fire_at`` is when the background loop
# fires next (the spec's next time, ``next_nominal_at``, plus jitter): NULL while paused, deleted,
# out of remaining actions or out of occurrences, so the due scan over ``ix_schedules_due`` only
# sees schedules that will fire. Claiming a fire is a compare-and-set on ``next_fire_at`` under
# the row's lock, so processes sharing the database never fire the same time twice.
schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("namespace", sa.String(128), primary_key=True),
    sa.Column("schedule_id", sa.String(128), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),  # active | paused | deleted
    sa.Column("spec", sa.JSON(), nullable=False),
    sa.Column("action", sa.JSON(), nullable=False),  # action.input is an envelope, stored verbatim
    sa.Column("overlap_policy", sa.String(32), nullable=False),
    sa.Column("jitter_seconds", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("max_runs", sa.Integer(), nullable=True),
    sa.Column("remaining_actions", sa.Integer(), nullable=True),
    sa.Column("memo", sa.JSON(), nullable=True),
    sa.Column("search_attributes", sa.JSON(), nullable=True),
    sa.Column("note", sa.Text(), nullable=True),
    _ts("next_fire_at"),
    _ts("next_nominal_at"),
    _ts("last_fired_at"),
    sa.Column("fires_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("failures_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("skipped_trigger_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_skip_reason", sa.String(64), nullable=True),
    _ts("last_skipped_at"),
    # Fires waiting (overlap buffer_one / buffer_all) for the latest started run to close.
    sa.Column("buffered_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("latest_workflow_id", sa.String(191), nullable=True),
    sa.Column("latest_run_id", sa.String(64), nullable=True),
    # The last sequence of this schedule's audit history (schedule_history_events).
    sa.Column("history_sequence", sa.Integer(), nullable=False, server_default="0"),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    _ts("paused_at"),
    _ts("resumed_at"),
    _ts("deleted_at"),
    sa.Index("ix_schedules_due", "status", "next_fire_at"),
    sa.Index("ix_schedules_buffered", "status", "buffered_count"),
    sa.Index("ix_schedules_namespace_created", "namespace", "created_at"),
)

# The audit stream of a schedule (ScheduleCreated ... ScheduleDeleted), gap-free per schedule id;
# it outlives a delete.
schedule_history_events = sa.Table(
    "schedule_history_events",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("schedule_id", sa.String(128), nullable=False),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("workflow_instance_id", sa.String(191), nullable=True),
    sa.Column("workflow_run_id", sa.String(64), nullable=True),
    _ts("recorded_at", nullable=False),
    sa.UniqueConstraint("namespace", "schedule_id", "sequence", name="uq_schedule_history_sequence"),
)

# Fires of a schedule not yet recorded in its history: 'buffered' ones (overlap buffer_one /
# buffer_all) wait, oldest first, for the latest started workflow to close; a 'starting' one was
# claimed (its workflow id chosen) and is being started through the normal start path. The
# claimer holds it until ``lease_expires_at``; after that any process may finish it, and a
# workflow id that already exists means the start happened, so a retried fire starts nothing new.
schedule_fires = sa.Table(
    "schedule_fires",
    metadata,
    sa.Column("fire_id", sa.String(64), primary_key=True),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("schedule_id", sa.String(128), nullable=False),
    _ts("fire_at", nullable=False),  # the occurrence (or trigger time) it stands for
    sa.Column("source", sa.String(32), nullable=False),  # scheduled | trigger | backfill
    sa.Column("status", sa.String(32), nullable=False),  # buffered | starting
    sa.Column("workflow_id", sa.String(191), nullable=True),
    _ts("lease_expires_at"),
    _ts("created_at", nullable=False),
    sa.Index("ix_schedule_fires_schedule", "namespace", "schedule_id", "status", "created_at"),
    sa.Index("ix_schedule_fires_lease", "status", "lease_expires_at"),
)


# ---- search attributes and the webhook bridge (0008_search_attributes_bridge)
# A namespace's custom search attributes and their types. The system attributes (WorkflowType,
# StartTime, ...) are fixed in code and never stored, so they cannot be created or deleted.
search_attribute_definitions = sa.Table(
    "search_attribute_definitions",
    metadata,
    sa.Column("namespace", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("attribute_type", sa.String(32), nullable=False),
    _ts("created_at", nullable=False),
)

# The typed values list filters read: one row per run, attribute and item (a keyword_list has one
# row per item, ``ordinal`` its position; scalars have ordinal 0), in the column of its type. The
# run row's JSON ``search_attributes`` stays the value shown; these rows are replaced whenever it
# changes (start, upsert, continue-as-new) in the same transaction. Each filter is an index range
# scan on (namespace, name, value) joined to the run by ``run_id``.
search_attribute_values = sa.Table(
    "search_attribute_values",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("ordinal", sa.Integer(), primary_key=True),
    sa.Column("namespace", sa.String(128), nullable=False),
    sa.Column("value_keyword", sa.String(2048), nullable=True),
    sa.Column("value_int", sa.BigInteger(), nullable=True),
    sa.Column("value_double", sa.Double(), nullable=True),
    sa.Column("value_bool", sa.Boolean(), nullable=True),
    _ts("value_datetime"),
    sa.Index("ix_search_attribute_values_keyword", "namespace", "name", "value_keyword"),
    sa.Index("ix_search_attribute_values_int", "namespace", "name", "value_int"),
    sa.Index("ix_search_attribute_values_double", "namespace", "name", "value_double"),
    sa.Index("ix_search_attribute_values_datetime", "namespace", "name", "value_datetime"),
)

# List filters on the run columns keep the keyset order (newest first) inside one index each, so
# a page of a filtered list reads about a page of index entries, not the namespace's history.
sa.Index(
    "ix_workflow_runs_namespace_type_started",
    workflow_runs.c.namespace,
    workflow_runs.c.workflow_type,
    workflow_runs.c.started_at,
    workflow_runs.c.run_id,
)
sa.Index(
    "ix_workflow_runs_namespace_queue_started",
    workflow_runs.c.namespace,
    workflow_runs.c.task_queue,
    workflow_runs.c.started_at,
    workflow_runs.c.run_id,
)
# Partial (0018_partial_closed_index): retention and close-time windows read closed runs only.
sa.Index(
    "ix_workflow_runs_namespace_closed",
    workflow_runs.c.namespace,
    workflow_runs.c.closed_at,
    sqlite_where=sa.text("closed_at IS NOT NULL"),
    postgresql_where=sa.text("closed_at IS NOT NULL"),
)

# One row per webhook-bridge event key: claimed (``pending``) before the event's action runs, so
# of two deliveries of one key at once only one acts, then ``done`` with the first outcome, which
# answers every later delivery. A rejected event's claim is removed (a later delivery may
# succeed); a claim left ``pending`` by a crashed server is taken over once ``claimed_at`` is old.
bridge_outcomes = sa.Table(
    "bridge_outcomes",
    metadata,
    sa.Column("namespace", sa.String(128), primary_key=True),
    sa.Column("adapter", sa.String(128), primary_key=True),
    sa.Column("idempotency_key", sa.String(255), primary_key=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("workflow_id", sa.String(191), nullable=True),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("outcome", sa.JSON(), nullable=True),
    _ts("claimed_at", nullable=False),
    _ts("created_at", nullable=False),
)


# ---- task queues and build ids (0009_task_queues)
# One row per build-id cohort an operator acted on: its drain intent and whether it is the
# cohort new runs of the queue pin to. ``build_key`` is the build id, or ``''`` for the
# unversioned cohort (a primary key column cannot be NULL); ``build_id`` is the id as shown.
task_queue_build_ids = sa.Table(
    "task_queue_build_ids",
    metadata,
    sa.Column("namespace", sa.String(128), primary_key=True),
    sa.Column("task_queue", sa.String(255), primary_key=True),
    sa.Column("build_key", sa.String(255), primary_key=True),
    sa.Column("build_id", sa.String(255), nullable=True),
    sa.Column("drain_intent", sa.String(32), nullable=False),  # active | draining
    _ts("drained_at"),
    # Set on the one cohort of the queue that new runs pin to (cleared when another is promoted).
    _ts("promoted_at"),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
)


# ---- maintenance and metrics (0010_maintenance)
# (no tables: retention scans closed runs through ix_workflow_runs_namespace_closed, above)

# ---- the list path's status index (0011_list_status_index)
# A list filtered by status reads one index range per status, newest first (see
# engine/search_attributes/listing.py), instead of every run's row along the started index.
# Status first, not namespace: a list of the whole namespace must keep walking the started
# index; with namespace first, SQLite (no statistics for a new index) took this one for
# ``namespace = ?`` alone and sorted the namespace.
sa.Index(
    "ix_workflow_runs_status_namespace_started",
    workflow_runs.c.status,
    workflow_runs.c.namespace,
    workflow_runs.c.started_at,
    workflow_runs.c.run_id,
)
# A keyword-valued attribute filter probes each candidate run's value from this index alone.
sa.Index(
    "ix_search_attribute_values_run_keyword",
    search_attribute_values.c.run_id,
    search_attribute_values.c.name,
    search_attribute_values.c.value_keyword,
)


ALL_TABLES = tuple(metadata.sorted_tables)
