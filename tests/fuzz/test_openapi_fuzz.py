"""schemathesis over ``GET /api/openapi.json``: every operation of the embedded server, fuzzed.

The run is bounded and deterministic (a few derandomized examples per operation) and checks,
for every answer: no 5xx; the status is one the document names for that operation; the body is
JSON of the documented shape; every 4xx is the error envelope (a ``message`` and a ``reason``);
and a refused request (any non-2xx) left every row of every table as it was.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from durable_workflow_server import Settings, create_app
from durable_workflow_server.http.openapi import build_document
from durable_workflow_server.http.table import PLANES
from tests.fuzz.checks import CHECKS, HEADERS, bounded
from tests.fuzz.harness import Ledger, close_readers, database_url, fuzz_settings, seed
from tests.helpers.dbmatrix import DATABASES

# Examples per operation and mode: CI's run stays within a minute or two on a loaded 2-core box;
# DW_FUZZ_EXAMPLES=50 (or more) for a longer hunt.
EXAMPLES = int(os.environ.get("DW_FUZZ_EXAMPLES", "4"))


@pytest.fixture(scope="module", params=DATABASES)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app and its database for the module: one server takes every operation's cases."""
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    url = database_url(request, tmp)
    app = create_app(fuzz_settings(url))
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    ids = seed(app)
    yield schema, Ledger(url), ids
    from schemathesis.python import asgi

    asgi.shutdown_lifespans()
    close_readers()


@pytest.fixture(scope="module")
def api_schema(served: tuple[Any, Ledger, dict[str, str]]) -> Any:
    return served[0]


@pytest.fixture(scope="module")
def ledger(served: tuple[Any, Ledger, dict[str, str]]) -> Ledger:
    return served[1]


@pytest.fixture(scope="module")
def seeded(served: tuple[Any, Ledger, dict[str, str]]) -> dict[str, str]:
    return served[2]


def _cases() -> list[tuple[str, str, str]]:
    """Every documented operation: with positive data; with negative data where it takes any; and,
    where its path names a resource, with positive data aimed at the seeded rows."""
    document = build_document(PLANES, Settings())
    cases = []
    for path, item in document["paths"].items():
        for method, spec in item.items():
            cases.append((method.upper(), path, "positive"))
            if spec.get("parameters") or "requestBody" in spec:
                cases.append((method.upper(), path, "negative"))
            if "{" in path:
                cases.append((method.upper(), path, "seeded"))
    return cases


@pytest.mark.parametrize(("method", "path", "mode"), _cases())
def test_every_operation(
    api_schema: Any, ledger: Ledger, seeded: dict[str, str], method: str, path: str, mode: str
) -> None:
    operation = api_schema[path][method]
    if mode == "seeded":
        names = re.findall(r"{(\w+)}", path)
        strategy = operation.as_strategy(path_parameters={name: seeded[name] for name in names})
    else:
        strategy = operation.as_strategy(generation_mode=GenerationMode(mode))

    @given(strategy)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def one(case: schemathesis.Case) -> None:
        ledger.begin()
        bounded(case)
        response = case.call(headers=HEADERS)
        exchange = ledger.end(case.method, case.path, response.status_code)
        case.validate_response(response, checks=CHECKS)
        assert not (exchange.wrote and not 200 <= exchange.status < 300), (
            f"{case.method} {case.formatted_path} answered {exchange.status} and changed the database: "
            f"{exchange.changed}"
        )

    one()


def test_the_database_holds_only_what_accepted_requests_wrote(ledger: Ledger) -> None:
    """Runs after the operations above (same module, same server): every row change of the run
    happened while a request was being answered, that request was accepted (2xx), and no read
    (GET) changed anything; so the database is the seed plus what the accepted writes wrote."""
    assert ledger.exchanges, "the fuzz run sent nothing"
    assert ledger.unattributed == []
    assert [(e.method, e.path, e.status, e.changed) for e in ledger.refused_writes()] == []
    assert [(e.path, e.status, e.changed) for e in ledger.reads_that_wrote()] == []
    statuses = ledger.statuses()
    # The run reached past the guards: some writes were accepted and some refused as invalid.
    assert any(200 <= s < 300 for s in statuses) and 422 in statuses, statuses
    print(f"fuzz: {len(ledger.exchanges)} requests, statuses {statuses}")
