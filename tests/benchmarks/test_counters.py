"""The counter arithmetic and Prometheus parsing behind the benchmarks' cost figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from durable_workflow_server.http.prometheus import render

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from _counters import (
    SERVER_REQUESTS,
    SERVER_SQL_STATEMENTS,
    Sample,
    Snapshot,
    as_json,
    cost_lines,
    costs,
    metric_total,
    parse_prometheus,
    proc_cpu_seconds,
)


def test_parses_the_servers_own_exposition() -> None:
    scrape = {"method": "GET", "route": "/metrics", "status": "200"}
    start = {"method": "POST", "route": "/api/workflows", "status": "201"}
    text = render(
        [
            {"name": SERVER_REQUESTS, "labels": scrape, "value": 3.0},
            {"name": SERVER_REQUESTS, "labels": start, "value": 7.0},
            {"name": "durable_workflow_server_long_polls_waiting", "labels": {}, "value": 2.0},
        ]
    )
    samples = parse_prometheus(text)
    assert (
        Sample(SERVER_REQUESTS, {"method": "POST", "route": "/api/workflows", "status": "201"}, 7.0)
        in samples
    )
    assert Sample("durable_workflow_server_long_polls_waiting", {}, 2.0) in samples
    assert metric_total(samples, SERVER_REQUESTS) == 10.0
    assert metric_total(samples, SERVER_REQUESTS, skip_route="/metrics") == 7.0


def test_escaped_label_values_and_timestamps() -> None:
    text = 'm{a="x\\"y",b="c\\\\d",n="1\\n2"} 4.5 1700000000000\nplain 1e3\n'
    assert parse_prometheus(text) == [
        Sample("m", {"a": 'x"y', "b": "c\\d", "n": "1\n2"}, 4.5),
        Sample("plain", {}, 1000.0),
    ]


def test_an_absent_metric_is_none_not_zero() -> None:
    samples = parse_prometheus("# HELP x y\n# TYPE x counter\nx 1\n")
    assert metric_total(samples, SERVER_SQL_STATEMENTS) is None


def test_proc_stat_fields_counted_after_the_command_name() -> None:
    # comm holds a space and a parenthesis; utime=250 and stime=50 ticks (fields 14 and 15)
    stat = "4242 (dw (server) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0"
    assert proc_cpu_seconds(stat, 100.0) == 3.0


def _snapshot(
    cpu: float, client: float, server: float | None, sql: float | None, scpu: float | None
) -> Snapshot:
    return Snapshot(
        client_cpu_s=cpu,
        client_requests=client,
        server_requests=server,
        server_sql_statements=sql,
        server_cpu_s=scpu,
    )


def test_costs_per_workflow_and_per_request() -> None:
    before = _snapshot(1.0, 10, 20, 100, 5.0)
    after = _snapshot(1.5, 110, 120, 2600, 5.2)
    cost = costs(before, after, workflows=50, scrape_sql_statements=100)
    assert cost.client_requests_per_workflow == 2.0
    assert cost.server_requests_per_workflow == 2.0
    assert cost.sql_statements_per_workflow == 48.0  # (2500 - one closing scrape's 100) / 50
    assert cost.server_cpu_ms_per_workflow == pytest.approx(4.0)
    assert cost.client_cpu_ms_per_workflow == pytest.approx(10.0)
    assert cost.client_cpu_ms_per_request == pytest.approx(5.0)


def test_missing_server_figures_print_as_na_and_null() -> None:
    cost = costs(_snapshot(0, 0, None, None, None), _snapshot(0.1, 4, None, None, None), workflows=2)
    assert cost.server_requests_per_workflow is None
    assert cost.sql_statements_per_workflow is None
    assert cost.server_cpu_ms_per_workflow is None
    lines = cost_lines(cost)
    assert sum(line.endswith(" n/a") for line in lines) == 3
    assert len({len(line) for line in lines}) == 1  # one aligned block
    decoded = json.loads(as_json({"benchmark": "t"}, cost))
    assert decoded["benchmark"] == "t"
    assert decoded["sql_statements_per_workflow"] is None
    assert decoded["client_requests_per_workflow"] == 2.0


def test_no_requests_gives_no_per_request_figure() -> None:
    cost = costs(_snapshot(0, 5, 0, 0, 0), _snapshot(0.1, 5, 0, 0, 0), workflows=1)
    assert cost.client_cpu_ms_per_request is None
