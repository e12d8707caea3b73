"""The wire contract is importable without the rest of the SDK.

The server imports ``durable_workflow.protocol``; that must not load the HTTP client (httpx),
the worker or the testing harness. Each check runs in a fresh interpreter, since this test
process has long imported all of them.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

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


def test_building_the_server_app_loads_only_the_protocol_of_the_sdk(tmp_path: object) -> None:
    script = textwrap.dedent(
        f"""
        import json, sys
        from durable_workflow_server import Settings, create_app
        create_app(Settings(database_url="sqlite:///{tmp_path}/never-opened.sqlite3", auth_token="t"))
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("durable_workflow", "httpx"))))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    # The package itself (its lazy __init__) and the wire contract; nothing else of the SDK, and
    # not the HTTP client library it is built on.
    others = [m for m in loaded if m != "durable_workflow" and not m.startswith("durable_workflow.protocol")]
    assert others == []
    assert "durable_workflow.protocol" in loaded


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


def _names_imported_for_type_checkers() -> dict[str, str]:
    """Name -> module of the ``if TYPE_CHECKING:`` imports of ``durable_workflow/__init__.py``."""
    import durable_workflow

    tree = ast.parse(Path(durable_workflow.__file__).read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    )
    names: dict[str, str] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom), ast.dump(node)
        for alias in node.names:
            # ``from . import activity`` binds a submodule; ``from .errors import X`` a name in one.
            names[alias.asname or alias.name] = f".{node.module}" if node.module else f".{alias.name}"
    return names


def test_the_lazy_table_covers_exactly_the_exported_names() -> None:
    import durable_workflow

    table = durable_workflow._EXPORTS
    # Three spellings of one list (see __init__.py for why): the runtime table, __all__ and the
    # imports type checkers read must name the same things, from the same modules.
    assert list(durable_workflow.__all__) == sorted(table)
    assert _names_imported_for_type_checkers() == table
    for name, module in table.items():
        loaded = importlib.import_module(module, "durable_workflow")
        # Each name is defined where the table says (a submodule entry is the module itself).
        assert getattr(durable_workflow, name) is (loaded if module == f".{name}" else getattr(loaded, name))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("errors.WorkflowFailed", "durable_workflow.errors"),
        ("testing.WorkflowEnvironment", "durable_workflow.testing._environment"),
        ("sync.Client", "durable_workflow.sync"),
        ("worker.Worker", "durable_workflow.worker._worker"),
        ("retry_policy.TransportRetryPolicy", "durable_workflow.retry_policy"),
        ("protocol.codec.encode", "durable_workflow.protocol.codec"),
        ("metrics.InMemoryMetrics", "durable_workflow.metrics"),
    ],
)
def test_a_submodule_is_reachable_as_an_attribute(path: str, expected: str) -> None:
    # A fresh interpreter: here every submodule has long been imported (and so bound).
    script = textwrap.dedent(
        f"""
        import durable_workflow as dw
        import functools
        head = {path.split(".")[0]!r}
        assert head in dir(dw), head
        value = functools.reduce(getattr, {path.split(".")!r}, dw)
        print(value.__module__)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
