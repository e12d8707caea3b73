"""The row types and status enums stay in step with the tables and with the wire."""

from __future__ import annotations

import json
from typing import get_type_hints

import pytest
import sqlalchemy as sa

from durable_workflow.protocol.history import RunStatus as WireRunStatus
from durable_workflow_server.store import rows, statuses
from durable_workflow_server.store import tables as t

ROW_TYPES = {
    t.namespaces: rows.NamespaceRow,
    t.workflow_instances: rows.InstanceRow,
    t.workflow_runs: rows.RunRow,
    t.history_events: rows.HistoryEventRow,
    t.workflow_tasks: rows.WorkflowTaskRow,
    t.activity_executions: rows.ActivityExecutionRow,
    t.activity_tasks: rows.ActivityTaskRow,
    t.activity_attempts: rows.ActivityAttemptRow,
    t.timers: rows.TimerRow,
    t.workers: rows.WorkerRow,
    t.signals: rows.SignalRow,
    t.updates: rows.UpdateRow,
    t.condition_waits: rows.ConditionWaitRow,
    t.child_links: rows.ChildLinkRow,
    t.query_tasks: rows.QueryTaskRow,
    # issue 8: namespaces and external payload storage
    t.external_payloads: rows.ExternalPayloadRow,
    # issue 8: schedules
    t.schedules: rows.ScheduleRow,
    t.schedule_history_events: rows.ScheduleHistoryEventRow,
    t.schedule_fires: rows.ScheduleFireRow,
    # issue 8: search attributes and the webhook bridge
    t.search_attribute_definitions: rows.SearchAttributeDefinitionRow,
    t.search_attribute_values: rows.SearchAttributeValueRow,
    t.bridge_outcomes: rows.BridgeOutcomeRow,
    # issue 8: task queues and build ids
    t.task_queue_build_ids: rows.TaskQueueBuildIdRow,
    # issue 8: maintenance and metrics
}


def test_every_table_has_a_row_type() -> None:
    assert set(ROW_TYPES) == set(t.ALL_TABLES)


@pytest.mark.parametrize("table", list(ROW_TYPES), ids=lambda table: table.name)
def test_a_row_type_names_exactly_the_columns(table: sa.Table) -> None:
    assert list(get_type_hints(ROW_TYPES[table])) == [column.name for column in table.columns]


def test_run_statuses_are_the_wire_statuses() -> None:
    wire = {value for name, value in vars(WireRunStatus).items() if name.isupper() and isinstance(value, str)}
    assert {status.value for status in statuses.RunStatus} == wire
    assert statuses.OPEN_RUN_STATUSES == WireRunStatus.OPEN
    assert statuses.TERMINAL_RUN_STATUSES == WireRunStatus.TERMINAL


@pytest.mark.parametrize(
    "status",
    [
        statuses.WorkflowTaskStatus.READY,
        statuses.ActivityTaskStatus.LEASED,
        statuses.ActivityAttemptStatus.EXPIRED,
        statuses.TimerStatus.FIRED,
        statuses.RunStatus.WAITING,
    ],
)
def test_a_status_renders_as_its_plain_value(status: statuses.StrEnum) -> None:
    assert str(status) == f"{status}" == status.value
    assert json.dumps({"status": status}) == json.dumps({"status": status.value})
