"""schemathesis's stateful mode: sequences of calls chained by the document's OpenAPI links.

A start's answer feeds describe, signal, query, update, cancel, terminate, history; a created
schedule's id feeds its describe, update, pause, trigger and delete. Each step gets the same
checks as the per-operation run, and the same row ledger: a refused step writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.python import asgi

from durable_workflow_server import create_app
from durable_workflow_server.http.openapi import LINKS
from tests.fuzz.checks import CHECKS, HEADERS, bounded
from tests.fuzz.harness import (
    CONTROL,
    FreshEngine,
    Ledger,
    close_readers,
    database_url,
    fuzz_settings,
    rows,
    wipe,
)
from tests.helpers.dbmatrix import DATABASES

# The workflow graph (start → describe → signal → ...): a fuzzed start is accepted often, where
# a fuzzed schedule (cron text, a time zone) almost never is, so sequences through the workflow
# links get somewhere within a CI-sized budget.
WORKFLOW_SOURCES = [source for source in LINKS if "schedule" not in source]
LINKED = set(WORKFLOW_SOURCES) | {target for source in WORKFLOW_SOURCES for target, _ in LINKS[source]}


@pytest.fixture(params=DATABASES)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, FreshEngine, Any]]:
    """The app on a real database, its engine restartable on an emptied database (FreshEngine)."""
    url = database_url(request, tmp_path)
    settings = fuzz_settings(url)
    engine = FreshEngine(settings)
    app = create_app(settings, engine=engine)
    yield url, engine, app
    asgi.shutdown_lifespans()
    close_readers()


@pytest.fixture
def machine(served: tuple[str, FreshEngine, Any]) -> tuple[type[Any], Ledger]:
    url, engine, app = served
    loaded = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    # Positive data only: a sequence is worth following when its steps are accepted (the
    # per-operation run covers negative data); and only the operations the links join.
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE])
    schema = loaded.include(operation_id=sorted(LINKED))
    ledger = Ledger(url)
    base = schema.as_state_machine()

    class Machine(base):  # type: ignore[misc,valid-type]
        def setup(self) -> None:
            # Every scenario starts from the same server state, so a replayed scenario gets the
            # answers it got the first time (see FreshEngine).
            ledger.restart(lambda: engine.restart(lambda: wipe(url)))

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": HEADERS}

        def before_call(self, case: schemathesis.Case) -> None:
            bounded(case)
            ledger.begin()

        def after_call(self, response: schemathesis.Response, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            ledger.end(case.method, case.path, response.status_code)

        def validate_response(
            self, response: schemathesis.Response, case: schemathesis.Case, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS)

    return Machine, ledger


def test_a_restarted_server_answers_a_replayed_scenario_alike(served: tuple[str, FreshEngine, Any]) -> None:
    """What the stateful run relies on: after a restart, the rows are the initial ones again and
    the same requests get the same answers (without it the replayed start is a 409: the id has an
    open run from the first time)."""
    url, engine, app = served
    start = {"workflow_id": "wf-replayed", "workflow_type": "greeter", "task_queue": "q"}
    with asgi.get_client(app) as http:
        initial = rows(url)

        def scenario() -> list[int]:
            return [
                http.post("/api/workflows", json=start, headers=CONTROL).status_code,
                http.post("/api/workflows", json=start, headers=CONTROL).status_code,
                http.get("/api/workflows/wf-replayed", headers=CONTROL).status_code,
            ]

        first = scenario()
        engine.restart(lambda: wipe(url))
        assert rows(url) == initial
        again = scenario()
    assert first == again == [201, 409, 200]


def test_linked_sequences(machine: tuple[type[Any], Ledger]) -> None:
    state_machine, ledger = machine
    run_state_machine_as_test(
        state_machine,
        settings=settings(
            max_examples=20,
            stateful_step_count=6,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    assert ledger.unattributed == []
    assert [(e.method, e.path, e.status, e.changed) for e in ledger.refused_writes()] == []
    assert [(e.path, e.status, e.changed) for e in ledger.reads_that_wrote()] == []
    # The links were followed: a started workflow was then read, signalled or acted on.
    linked = {e.path for e in ledger.exchanges if 200 <= e.status < 300 and "{workflow_id}" in e.path}
    assert linked, "\n".join(f"{e.method} {e.path} {e.status}" for e in ledger.exchanges)
    print(
        f"stateful: {len(ledger.exchanges)} requests, statuses {ledger.statuses()}, linked {sorted(linked)}"
    )
