"""The HTTP tests' FakeEngine is a whole EngineAPI: every method, with the same parameters.

A method the fake lacks fails only the test that first routes to it, with an AttributeError far
from the cause; a fake whose parameters drifted from the API records calls the real engine
would refuse. Both are caught here, for every method at once.
"""

from __future__ import annotations

import inspect

from durable_workflow_server.engine.api import EngineAPI
from tests.helpers.http_helpers import FakeEngine


def _methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


def test_the_fake_engine_has_every_engine_api_method() -> None:
    missing = sorted(set(_methods(EngineAPI)) - {n for n in dir(FakeEngine) if not n.startswith("_")})
    assert not missing, f"FakeEngine lacks {missing}"


def test_the_fake_engine_methods_take_the_engine_api_parameters() -> None:
    drifted = {}
    for name, expected in _methods(EngineAPI).items():
        actual = inspect.signature(getattr(FakeEngine, name))
        want = [(p.name, p.kind) for p in expected.parameters.values()]
        got = [(p.name, p.kind) for p in actual.parameters.values()]
        if want != got:
            drifted[name] = (want, got)
    assert not drifted, drifted


async def test_the_fake_debug_view_asks_for_the_expected_body() -> None:
    fake = FakeEngine()
    try:
        await fake.debug_run("default", "wf", "run")
    except AssertionError as refused:
        assert "results['debug_run']" in str(refused)
    else:
        raise AssertionError("the fake answered a debug view nobody set")
    fake.results["debug_run"] = {"workflow_id": "wf"}
    assert await fake.debug_run("default", "wf", "run") == {"workflow_id": "wf"}
    assert fake.called("debug_run")[-1] == (("default", "wf", "run"), {"include_last_event_payload": False})
