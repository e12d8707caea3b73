"""The wire contract is importable without the rest of the SDK.

The server imports ``durable_workflow.protocol``; that must not load the HTTP client (httpx),
the worker or the testing harness. Each check runs in a fresh interpreter, since this test
process has long imported all of them.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap

import pytest

_HEAVY = ("httpx", "durable_workflow.client", "durable_workflow.worker", "durable_workflow.testing")


def _modules_loaded_after(code: str) -> set[str]:
    script = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json, sys
        print(json.dumps(sorted(m for m in {list(_HEAVY)!r} if m in sys.modules)))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_protocol_loads_no_client_worker_or_testing() -> None:
    assert _modules_loaded_after("import durable_workflow.protocol") == set()


def test_building_the_server_app_loads_no_client_worker_or_testing(tmp_path: object) -> None:
    loaded = _modules_loaded_after(
        f"""
        from durable_workflow_server.app import create_app
        from durable_workflow_server.settings import Settings
        create_app(Settings(database_url="sqlite:///{tmp_path}/never-opened.sqlite3"))
        """
    )
    assert loaded == set()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("WorkflowFailed", set()),
        ("workflow", set()),
        ("activity", set()),
        ("Replayer", {"durable_workflow.testing"}),
        ("Client", {"httpx", "durable_workflow.client"}),
        ("Worker", {"httpx", "durable_workflow.client", "durable_workflow.worker"}),
    ],
)
def test_a_name_loads_only_what_defines_it(name: str, expected: set[str]) -> None:
    loaded = _modules_loaded_after(
        f"""
        import durable_workflow
        assert {name!r} in dir(durable_workflow)
        getattr(durable_workflow, {name!r})
        """
    )
    assert loaded == expected


def test_an_unknown_name_is_an_attribute_error() -> None:
    import durable_workflow

    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        durable_workflow.NoSuchThing  # noqa: B018


def test_the_lazy_table_covers_exactly_the_exported_names() -> None:
    import durable_workflow

    table = durable_workflow._EXPORTS
    assert set(table) == set(durable_workflow.__all__)
    for name, module in table.items():
        loaded = importlib.import_module(module, "durable_workflow")
        # Each name is defined where the table says (a submodule entry is the module itself).
        assert getattr(durable_workflow, name) is (loaded if module == f".{name}" else getattr(loaded, name))
