"""Each task kind is parsed once, in ``durable_workflow._wire``; every fallback is pinned here."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from typing import Any

import pytest

from durable_workflow._fields import opt_int as _opt_int
from durable_workflow._wire import (
    MALFORMED_HISTORY,
    ActivityTaskRead,
    HistoryPageRead,
    MalformedTask,
    QueryTaskRead,
    WorkflowTaskRead,
    event_payload,
    event_type,
)
from durable_workflow.activity import ActivityInfo

EVENTS = [{"event_type": "WorkflowStarted", "payload": {}}, {"event_type": "TimerFired", "payload": {}}]


def test_a_workflow_task_is_read_with_its_defaults() -> None:
    task = WorkflowTaskRead.from_wire(
        {"task_id": "wt-1", "workflow_id": "wf", "run_id": "r", "workflow_type": "greeter"},
        worker_id="w1",
        task_queue="q",
    )
    assert (task.task_id, task.lease_owner, task.attempt, task.task_queue) == ("wt-1", "w1", 1, "q")
    assert (task.first_page.events, task.first_page.next_page_token, task.update_id) == ([], None, None)


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        (3, 3),
        ("4", 4),
        ("x", 1),
        (True, 1),
        (None, 1),
        (-2, 1),
        ("²", 1),  # a digit to str.isdigit, but int() refuses it
        ("٣", 1),  # a decimal digit, but not an ASCII one
        ("-2", 1),
        (" 5", 1),
        (2.0, 1),
    ],
)
def test_an_attempt_counter_is_read_from_an_int_or_its_digits(sent: Any, read: int) -> None:
    raw = {"task_id": "t", "workflow_task_attempt": sent}
    assert WorkflowTaskRead.from_wire(raw, worker_id="w", task_queue="q").attempt == read


@pytest.mark.parametrize(
    ("sent", "read"),
    [(3, 3), ("4", 4), (2.0, 2), ("x", None), (True, None), (None, None), ([1], None), (float("inf"), None)],
)
def test_an_optional_int_is_a_number_or_numeric_text(sent: Any, read: int | None) -> None:
    """The one reader of optional counts in describe answers (run_number, attempts, waits)."""
    assert _opt_int({"n": sent}, "n") == read
    assert _opt_int({}, "n") is None


def test_a_workflow_task_names_its_update_and_lease_owner() -> None:
    raw = {"task_id": "t", "lease_owner": "other", "workflow_update_id": "u-1", "task_queue": "own"}
    task = WorkflowTaskRead.from_wire(raw, worker_id="w", task_queue="q")
    assert (task.lease_owner, task.update_id, task.task_queue) == ("other", "u-1", "own")
    assert task.raw is raw


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [("gzip", gzip.compress), ("deflate", lambda data: zlib.compress(data)[2:-4])],
)
def test_a_compressed_history_page_is_inflated(encoding: str, pack: Any) -> None:
    blob = base64.b64encode(pack(json.dumps(EVENTS).encode())).decode()
    page = HistoryPageRead.from_wire(
        {
            "history_events": [],
            "history_events_encoding": encoding,
            "history_events_compressed": blob,
            "next_history_page_token": "tok",
        }
    )
    assert (page.events, page.next_page_token) == (EVENTS, "tok")


def test_an_empty_page_token_means_the_last_page() -> None:
    page = HistoryPageRead.from_wire({"history_events": EVENTS, "next_history_page_token": ""})
    assert (page.events, page.next_page_token) == (EVENTS, None)


def test_an_activity_task_takes_the_older_attempt_id_name() -> None:
    old = ActivityTaskRead.from_wire({"task_id": "a", "attempt_id": "att-7"}, worker_id="w", task_queue="q")
    new = ActivityTaskRead.from_wire(
        {"task_id": "a", "activity_attempt_id": "att-8", "attempt_id": "att-7"}, worker_id="w", task_queue="q"
    )
    assert (old.attempt_id, new.attempt_id) == ("att-7", "att-8")
    assert (old.lease_owner, old.task_queue, old.attempt_number) == ("w", "q", 1)


def test_activity_info_is_built_from_the_same_parse() -> None:
    raw = {
        "task_id": "a",
        "activity_type": "greet",
        "attempt_id": "att-1",
        "attempt_number": "2",
        "deadlines": {"start_to_close": "2026-01-01T00:00:00Z"},
    }
    info = ActivityInfo.from_task(raw)
    assert (info.activity_attempt_id, info.attempt_number, info.task_queue) == ("att-1", 2, None)
    assert ActivityInfo.from_task(raw, "default").task_queue == "default"
    assert dict(info.deadlines) == {"start_to_close": "2026-01-01T00:00:00Z"}


def test_a_query_task_without_arguments_has_none() -> None:
    raw = {
        "query_task_id": "q1",
        "query_task_attempt": 2,
        "query_name": "status",
        "query_arguments": {"codec": None, "blob": None},
        "history_events": EVENTS,
    }
    task = QueryTaskRead.from_wire(raw, worker_id="w")
    assert (task.query_task_id, task.attempt, task.query_name, task.lease_owner) == ("q1", 2, "status", "w")
    assert task.query_arguments is None and task.history_events == EVENTS
    with_args = {**raw, "query_arguments": {"codec": "avro", "blob": "AAA="}}
    assert QueryTaskRead.from_wire(with_args, worker_id="w").query_arguments == {
        "codec": "avro",
        "blob": "AAA=",
    }


def test_an_event_type_comes_from_event_type_or_the_export_alias() -> None:
    assert event_type({"event_type": "A", "type": "B"}) == "A"
    assert event_type({"type": "B"}) == "B"
    assert event_type({}) == ""


def test_an_event_payload_may_arrive_as_json_text() -> None:
    assert event_payload({"payload": '{"a": 1}'}) == {"a": 1}
    assert event_payload({"payload": "not json"}) == {}
    assert event_payload({"payload": [1]}) == {}


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        (None, None),
        ({"codec": "avro", "blob": "AAA="}, {"codec": "avro", "blob": "AAA="}),
        ("AAA=", {"codec": "avro", "blob": "AAA="}),  # a bare blob takes the task's codec
    ],
)
def test_task_arguments_are_read_as_an_envelope(sent: Any, read: Any) -> None:
    raw = {"task_id": "t", "payload_codec": "avro", "arguments": sent}
    assert WorkflowTaskRead.from_wire(raw, worker_id="w", task_queue="q").arguments == read
    assert ActivityTaskRead.from_wire(raw, worker_id="w", task_queue="q").arguments == read


def test_a_task_without_a_codec_keeps_that_visible() -> None:
    raw = {"task_id": "t", "arguments": "AAA="}
    task = WorkflowTaskRead.from_wire(raw, worker_id="w", task_queue="q")
    # The handler refuses a task that declares no codec; a bare blob has nothing to pair with.
    assert (task.payload_codec, task.arguments) == (None, None)


@pytest.mark.parametrize("sent", [[1, 2], 7, {"blob": "AAA="}])
def test_arguments_that_are_no_payload_are_a_malformed_task_carrying_the_lease(sent: Any) -> None:
    raw = {
        "task_id": "t",
        "lease_owner": "w",
        "attempt_number": 2,
        "activity_attempt_id": "a-1",
        "arguments": sent,
    }
    with pytest.raises(MalformedTask) as caught:
        ActivityTaskRead.from_wire(raw, worker_id="w", task_queue="q")
    error = caught.value
    assert (error.reason, error.task_id, error.lease_owner, error.attempt, error.attempt_id) == (
        "invalid_payload_framing",
        "t",
        "w",
        2,
        "a-1",
    )


@pytest.mark.parametrize(
    "blob",
    [
        "%%%",
        base64.b64encode(b"junk").decode(),
        base64.b64encode(zlib.compress(b"[")[2:-4]).decode(),
        12,
    ],
)
def test_a_corrupt_compressed_first_page_is_a_malformed_task(blob: Any) -> None:
    raw = {
        "task_id": "t",
        "workflow_task_attempt": "2",
        "history_events_encoding": "deflate",
        "history_events_compressed": blob,
    }
    with pytest.raises(MalformedTask) as caught:
        WorkflowTaskRead.from_wire(raw, worker_id="w", task_queue="q")
    assert (caught.value.reason, caught.value.task_id, caught.value.lease_owner, caught.value.attempt) == (
        MALFORMED_HISTORY,
        "t",
        "w",
        2,
    )
