"""``durable_workflow.client`` loads ``Client`` and nothing else of its exports until asked.

The typed results of schedules, task queues, namespaces ... and the Avro codec load on first
use, so a program that only describes a workflow (``dw workflow:describe``) does not pay for
them. Its re-export table, ``__all__`` and the imports type checkers read name the same things.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import durable_workflow.client as client_package

LAZY_MODULES = (
    "durable_workflow.client._task_queue_results",
    "durable_workflow.client._schedule_results",
    "durable_workflow.client._namespace_results",
    "durable_workflow.client._storage_results",
    "durable_workflow.client._bridge_results",
    "durable_workflow.client._search_attribute_results",
    "durable_workflow.client._message_results",
    "fastavro",
)


def _type_checking_imports() -> dict[str, str]:
    tree = ast.parse(Path(client_package.__file__).read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    )
    names: dict[str, str] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module, ast.dump(node)
        for alias in node.names:
            names[alias.asname or alias.name] = "." * node.level + node.module
    return names


def test_the_lazy_table_agrees_with_all_and_the_type_checking_imports() -> None:
    table = client_package._EXPORTS
    assert sorted(client_package.__all__) == sorted([*table, "Client"])
    assert _type_checking_imports() == table
    for name, module in table.items():
        assert getattr(client_package, name) is getattr(
            importlib.import_module(module, client_package.__name__), name
        )


def test_importing_the_client_loads_no_result_module_of_other_nouns_nor_fastavro() -> None:
    probe = "import json, sys; import durable_workflow.client; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    modules = set(json.loads(done.stdout))
    assert "durable_workflow.client._client" in modules
    assert [m for m in LAZY_MODULES if m in modules] == []


def test_a_call_loads_its_result_module() -> None:
    assert client_package.TaskQueueList.__module__ == "durable_workflow.client._task_queue_results"
