"""The pure parts of benchmarks/peers: round interleaving, median and min-max, the table, the
runner's result line. Nothing here installs a peer, starts a server or opens a socket."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

PEERS = Path(__file__).resolve().parents[2] / "benchmarks" / "peers"
sys.path.insert(0, str(PEERS))

import _configs  # noqa: E402
import _runner_common  # noqa: E402
from _table import DASH, Outcome, one_line, render, round_orders  # noqa: E402

# run.py under a name of its own: a plain `import run` could pick up another module called run.
_spec = importlib.util.spec_from_file_location("peers_run", PEERS / "run.py")
assert _spec is not None and _spec.loader is not None
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


def test_every_round_runs_every_configuration_once() -> None:
    names = ["a", "b", "c", "d"]
    orders = round_orders(names, 6)
    assert len(orders) == 6
    for order in orders:
        assert sorted(order) == names


def test_the_order_rotates_so_each_configuration_takes_each_place() -> None:
    names = ["a", "b", "c"]
    orders = round_orders(names, 3)
    assert orders == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    for place in range(3):
        assert Counter(order[place] for order in orders) == Counter(names)


def test_more_rounds_than_configurations_wrap_around() -> None:
    assert round_orders(["a", "b"], 3) == [["a", "b"], ["b", "a"], ["a", "b"]]
    assert round_orders([], 2) == [[], []]


def test_median_and_spread_of_the_rates() -> None:
    outcome = Outcome("x", "X")
    for elapsed in (2.0, 1.0, 4.0):  # 100 workflows: 50, 100, 25 per second
        outcome.add_run(100, elapsed)
    assert outcome.median == 50.0
    assert outcome.spread == (25.0, 100.0)
    outcome.add_run(100, 0.5)  # 200/s: an even count takes the mean of the middle two
    assert outcome.median == 75.0
    assert outcome.spread == (25.0, 200.0)


def test_an_outcome_without_runs_has_no_figures() -> None:
    outcome = Outcome("x", "X")
    outcome.add_failure("Traceback...\n  something\nRuntimeError: the server did not start\n")
    assert outcome.median is None
    assert outcome.spread is None
    assert outcome.failures == ["RuntimeError: the server did not start"]


def test_one_line_keeps_the_last_meaningful_line_and_cuts_it() -> None:
    assert one_line("first\n\nlast one\n  \n") == "last one"
    assert one_line("") == "failed (no message)"
    cut = one_line("x" * 500, limit=20)
    assert len(cut) == 20
    assert cut.endswith("…")


def test_the_table_shows_median_spread_runs_and_reasons() -> None:
    fast = Outcome("fast", "a fast one")
    for elapsed in (1.0, 2.0, 4.0):
        fast.add_run(500, elapsed)
    flaky = Outcome("flaky", "sometimes fails")
    flaky.add_run(100, 1.0)
    flaky.add_failure("runner timed out after 600 s")
    broken = Outcome("broken", "never starts")
    broken.add_failure("n/a (not in this build): durable_workflow_server has no embedded()")

    text = render([fast, flaky, broken], header=["machine: test", ""])
    lines = text.splitlines()
    assert lines[0] == "machine: test"
    assert lines[1] == ""
    title, rule, *rows = lines[2:]
    assert title.split() == ["configuration", "what", "median", "wf/s", f"min{DASH}max", "runs"]
    assert set(rule) == {"-"}
    assert rows[0].split()[-3:] == ["250.0", f"125.0{DASH}500.0", "3"]
    assert "100.0" in rows[1]
    assert "1 (1 failed: runner timed out after 600 s)" in rows[1]
    assert rows[2].endswith("n/a  n/a (not in this build): durable_workflow_server has no embedded()")
    # The columns line up: every row's median ends where the title's "median wf/s" ends.
    end = title.index("median wf/s") + len("median wf/s")
    assert rows[0][:end].endswith("250.0")
    assert rows[1][:end].endswith("100.0")
    assert rows[2][:end].endswith("n/a")


def test_rates_of_a_thousand_and_more_drop_the_decimal() -> None:
    outcome = Outcome("x", "X")
    outcome.add_run(2500, 1.0)
    assert f"2500{DASH}2500" in render([outcome])


def test_the_json_form_carries_the_same_figures() -> None:
    outcome = Outcome("x", "X")
    outcome.add_run(100, 1.0)
    outcome.add_run(100, 0.5)
    outcome.add_failure("boom")
    shape = json.loads(json.dumps(outcome.as_json()))
    assert shape == {
        "configuration": "x",
        "what": "X",
        "median_workflows_per_second": 150.0,
        "min_workflows_per_second": 100.0,
        "max_workflows_per_second": 200.0,
        "runs": 2,
        "rates": [100.0, 200.0],
        "failures": ["boom"],
    }


def test_the_runner_line_is_found_after_other_output() -> None:
    stdout = "some library chatter\n" + json.dumps({"workflows": 50, "elapsed": 2.5}) + "\n"
    assert run._parse_runner(0, stdout, "", 50) == 2.5


def test_a_runner_that_failed_gives_its_last_error_line() -> None:
    stderr = "Traceback (most recent call last):\n  ...\nSystemExit: wrong results: 3 of 50 differ\n"
    assert run._parse_runner(1, "", stderr, 50) == "SystemExit: wrong results: 3 of 50 differ"
    assert run._parse_runner(2, "", "", 50) == "runner exited with status 2"


def test_a_runner_line_with_the_wrong_count_or_none_at_all_fails_the_run() -> None:
    wrong = json.dumps({"workflows": 49, "elapsed": 1.0})
    assert run._parse_runner(0, wrong, "", 50) == "runner reported 49 workflows, expected 50"
    assert run._parse_runner(0, "no json here\n", "", 50) == "runner printed no result line"


def test_the_runners_check_every_result() -> None:
    _runner_common.check([0, 1, 2], 3)
    with pytest.raises(SystemExit, match="wrong results: 1 of 3 differ"):
        _runner_common.check([0, 7, 2], 3)
    with pytest.raises(SystemExit, match="got 2 results"):
        _runner_common.check([0, 1], 3)


def test_only_selects_in_table_order_and_refuses_unknown_names() -> None:
    every = [config.name for config in _configs.CONFIGS]
    assert [config.name for config in _configs.select(None)] == every
    picked = _configs.select("ours-file, dbos-sqlite")
    assert [config.name for config in picked] == ["dbos-sqlite", "ours-file"]
    with pytest.raises(SystemExit, match="unknown configuration"):
        _configs.select("dbos-sqlite,nope")


def test_every_configuration_names_a_runner_that_exists() -> None:
    names = [config.name for config in _configs.CONFIGS]
    assert len(names) == len(set(names))
    for config in _configs.CONFIGS:
        assert (PEERS / config.runner).is_file(), config.runner
        assert config.peer in {"dbos", "temporal", "restate", "ours"}
