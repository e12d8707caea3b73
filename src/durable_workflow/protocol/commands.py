"""Workflow-task command type names (``commands[].type`` on workflow-task completion)."""

from __future__ import annotations

COMPLETE_WORKFLOW = "complete_workflow"
FAIL_WORKFLOW = "fail_workflow"
CONTINUE_AS_NEW = "continue_as_new"
SCHEDULE_ACTIVITY = "schedule_activity"
START_TIMER = "start_timer"
START_CHILD_WORKFLOW = "start_child_workflow"
COMPLETE_UPDATE = "complete_update"
FAIL_UPDATE = "fail_update"
RECORD_SIDE_EFFECT = "record_side_effect"
RECORD_VERSION_MARKER = "record_version_marker"
UPSERT_SEARCH_ATTRIBUTES = "upsert_search_attributes"
OPEN_CONDITION_WAIT = "open_condition_wait"

TERMINAL_COMMANDS = (COMPLETE_WORKFLOW, FAIL_WORKFLOW, CONTINUE_AS_NEW)
NON_TERMINAL_COMMANDS = (
    SCHEDULE_ACTIVITY,
    START_TIMER,
    START_CHILD_WORKFLOW,
    COMPLETE_UPDATE,
    FAIL_UPDATE,
    RECORD_SIDE_EFFECT,
    RECORD_VERSION_MARKER,
    UPSERT_SEARCH_ATTRIBUTES,
    OPEN_CONDITION_WAIT,
)
# Advertised in server_capabilities.supported_workflow_task_commands, terminal types first.
SUPPORTED_COMMANDS = TERMINAL_COMMANDS + NON_TERMINAL_COMMANDS
