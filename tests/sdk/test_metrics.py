"""Metrics recorders."""

from __future__ import annotations

import pytest

from durable_workflow import metrics as m


def test_metric_names_are_the_documented_six() -> None:
    assert m.METRIC_NAMES == (
        "durable_workflow_client_requests",
        "durable_workflow_client_request_duration_seconds",
        "durable_workflow_worker_polls",
        "durable_workflow_worker_poll_duration_seconds",
        "durable_workflow_worker_tasks",
        "durable_workflow_worker_task_duration_seconds",
    )


def test_recorders_satisfy_the_protocol() -> None:
    assert isinstance(m.NoopMetrics(), m.MetricsRecorder)
    assert isinstance(m.InMemoryMetrics(), m.MetricsRecorder)


def test_noop_accepts_everything() -> None:
    rec = m.NoopMetrics()
    rec.increment("x")
    rec.record("y", 1.0, {"a": "b"})


def test_in_memory_counts_and_observes() -> None:
    rec = m.InMemoryMetrics()
    rec.increment(m.WORKER_POLLS, tags={"task_kind": "workflow", "outcome": "task"})
    rec.increment(m.WORKER_POLLS, 2, tags={"task_kind": "activity", "outcome": "empty"})
    rec.record(m.WORKER_POLL_DURATION_SECONDS, 0.5, {"task_kind": "workflow"})
    rec.record(m.WORKER_POLL_DURATION_SECONDS, 1.5, {"task_kind": "workflow"})
    assert rec.counter(m.WORKER_POLLS) == 3
    assert rec.counter(m.WORKER_POLLS, {"task_kind": "activity"}) == 2
    assert rec.counter(m.WORKER_POLLS, {"task_kind": "nope"}) == 0
    assert sorted(rec.observations(m.WORKER_POLL_DURATION_SECONDS)) == [0.5, 1.5]
    assert {"task_kind": "workflow", "outcome": "task"} in rec.tag_sets(m.WORKER_POLLS)
    rec.reset()
    assert rec.counter(m.WORKER_POLLS) == 0


def test_prometheus_exports_counters_and_histograms() -> None:
    import prometheus_client

    registry = prometheus_client.CollectorRegistry()
    rec = m.PrometheusMetrics(registry=registry)
    tags = {
        "method": "GET",
        "route": "/health",
        "plane": "control",
        "status_code": "200",
        "outcome": "success",
    }
    rec.increment(m.CLIENT_REQUESTS, tags=tags)
    rec.increment(m.CLIENT_REQUESTS, tags=tags)
    rec.record(m.CLIENT_REQUEST_DURATION_SECONDS, 0.2, tags)
    rec.increment("custom_total_things", tags={"k": "v"})
    assert registry.get_sample_value("durable_workflow_client_requests_total", tags) == 2.0
    assert registry.get_sample_value("durable_workflow_client_request_duration_seconds_count", tags) == 1.0
    assert registry.get_sample_value("durable_workflow_client_request_duration_seconds_sum", tags) == 0.2
    assert registry.get_sample_value("custom_total_things_total", {"k": "v"}) == 1.0
    # Missing documented tags are exported empty instead of failing.
    rec.increment(m.WORKER_TASKS, tags={"task_kind": "activity"})
    assert (
        registry.get_sample_value(
            "durable_workflow_worker_tasks_total", {"task_kind": "activity", "task_queue": "", "outcome": ""}
        )
        == 1.0
    )


def test_two_prometheus_recorders_share_one_registry() -> None:
    import prometheus_client

    registry = prometheus_client.CollectorRegistry()
    tags = {"task_kind": "workflow", "task_queue": "q", "outcome": "completed"}
    first = m.PrometheusMetrics(registry=registry)
    second = m.PrometheusMetrics(registry=registry)  # e.g. a second Client in the same process
    first.increment(m.WORKER_TASKS, tags=tags)
    second.increment(m.WORKER_TASKS, tags=tags)
    assert registry.get_sample_value("durable_workflow_worker_tasks_total", tags) == 2.0


def test_prometheus_refuses_one_name_as_two_kinds() -> None:
    import prometheus_client

    rec = m.PrometheusMetrics(registry=prometheus_client.CollectorRegistry())
    rec.increment("things_done", tags={"k": "v"})
    with pytest.raises(TypeError, match="counter, not a histogram"):
        rec.record("things_done", 1.0, {"k": "v"})
