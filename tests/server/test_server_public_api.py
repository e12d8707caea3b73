"""The server package's public names, and what importing it loads."""

from __future__ import annotations

import inspect
import subprocess
import sys

import durable_workflow_server


def test_the_server_package_exports_exactly_its_pinned_names() -> None:
    assert durable_workflow_server.__all__ == ["Settings", "create_app", "embedded", "serve"]
    for name in durable_workflow_server.__all__:
        assert getattr(durable_workflow_server, name) is not None
    embedded = durable_workflow_server.embedded
    assert inspect.isfunction(embedded) and embedded.__doc__
    assert list(inspect.signature(embedded).parameters) == ["database_url", "settings", "client_options"]
    # Still the function once its module is loaded (the module is not named like the function).
    assert durable_workflow_server.embedded is embedded


def test_importing_the_server_does_not_load_the_sdk_client() -> None:
    code = (
        "import sys, durable_workflow_server; "
        "print('durable_workflow.client' in sys.modules, 'durable_workflow_server.in_process' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
