"""What a user's type checker sees: mypy runs over small programs written against the SDK.

* ``@workflow.defn`` / ``@activity.defn`` give back the decorated type, signature intact;
* ``sync.Client`` methods are typed like the async ones, minus the awaitable;
* the real ``Client`` and the worker tests' ``FakeClient`` are both ``WorkerPlaneClient``s, so
  the fake cannot drift from what the worker is given in production.

One mypy run checks all of it (mypy is slow to start); each program's expectations are written
as ``assert_type``, which mypy reports when it does not hold.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import mypy.api as mypy_api
import pytest

_HERE = Path(__file__).resolve().parent
_SRC = _HERE.parents[1] / "src"

PROGRAMS = {
    "decorators.py": """
        from typing import Any

        from typing_extensions import assert_type

        from durable_workflow import activity, workflow


        @activity.defn(name="greet")
        async def greet(name: str) -> str:
            return name


        @activity.defn
        def add(a: int, b: int) -> int:
            return a + b


        @workflow.defn(name="greeter")
        class Greeter:
            @workflow.signal("poke")
            def poke(self, value: int) -> None: ...

            @workflow.query
            def state(self) -> str:
                return ""

            def run(self, ctx: Any, name: str) -> Any:
                return None


        @workflow.defn
        def plain(ctx: Any, count: int) -> int:
            return count


        async def use() -> None:
            assert_type(await greet("x"), str)
        assert_type(add(1, 2), int)
        assert_type(Greeter, type[Greeter])
        assert_type(Greeter().state(), str)
        assert_type(plain(None, 3), int)
    """,
    "sync_client.py": """
        from typing import Any

        from typing_extensions import assert_type

        from durable_workflow import client as async_client
        from durable_workflow.client import WorkflowExecution
        from durable_workflow.retry_policy import TransportRetryPolicy
        from durable_workflow.sync import Client, WorkflowHandle

        client = Client("http://localhost:8080", timeout=5.0, payload_size_warnings=False)
        assert_type(client.timeout, float)
        assert_type(client.retry_policy, TransportRetryPolicy)
        assert_type(client.server_long_poll_timeout, float | None)
        handle = client.start_workflow(workflow_type="greeter", task_queue="default", input=["x"])
        assert_type(handle, WorkflowHandle)
        assert_type(client.describe_workflow("wf"), WorkflowExecution)
        assert_type(handle.describe(), WorkflowExecution)
        assert_type(client.get_result(handle, timeout=1.0), Any)
        assert_type(client.get_workflow_handle("wf"), WorkflowHandle)
        # The handles share a generic base; each still names the async handle it wraps.
        assert_type(handle.async_handle, async_client.WorkflowHandle)
        assert_type(client.get_schedule_handle("s").async_handle, async_client.ScheduleHandle)
        client.cancel_workflow("wf", reason="done")
    """,
    "updates.py": """
        from typing import Any

        from typing_extensions import assert_type

        from durable_workflow import workflow


        @workflow.defn(name="approval")
        class Approval:
            def __init__(self) -> None:
                self.approved = False

            @workflow.update("set_approval")
            def set_approval(self, approved: bool) -> dict[str, bool]:
                self.approved = approved
                return {"approved": approved}

            @set_approval.validator
            def validate_set_approval(self, approved: bool) -> None:
                if not isinstance(approved, bool):
                    raise ValueError("approved must be boolean")

            @workflow.update
            def bump(self, by: int) -> int:
                return by

            def run(self, ctx: Any) -> Any:
                return None


        approval = Approval()
        assert_type(approval.set_approval(True), dict[str, bool])
        assert_type(approval.bump(2), int)
        assert_type(approval.validate_set_approval(True), None)
    """,
    "worker_plane.py": """
        from durable_workflow import Client, Worker
        from durable_workflow.worker import WorkerPlaneClient
        from worker_fakes import FakeClient

        real: WorkerPlaneClient = Client("http://localhost:8080")
        fake: WorkerPlaneClient = FakeClient()
        Worker(fake, task_queue="default")
        Worker(real, task_queue="default")
    """,
}


def _mypy(folder: Path, *files: Path) -> tuple[str, int]:
    with pytest.MonkeyPatch.context() as patch:
        # worker_fakes lives in tests/helpers; src holds the SDK (with its py.typed).
        patch.setenv("MYPYPATH", f"{_SRC}:{_HERE.parent / 'helpers'}")
        stdout, stderr, status = mypy_api.run(
            [
                "--strict",
                "--no-error-summary",
                "--python-version=3.10",
                "--config-file=",
                f"--cache-dir={folder / '.mypy_cache'}",
                *map(str, files),
            ]
        )
    assert not stderr, stderr
    return stdout, status


@dataclass(frozen=True)
class Report:
    """One mypy run over every program: its exit status, and its lines by program (and the rest)."""

    status: int
    by_program: dict[str, list[str]]
    elsewhere: list[str]


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    folder = tmp_path_factory.mktemp("typing")
    for name, text in PROGRAMS.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    stdout, status = _mypy(folder, *(folder / name for name in PROGRAMS))
    by_program: dict[str, list[str]] = {name: [] for name in PROGRAMS}
    elsewhere: list[str] = []
    for line in stdout.splitlines():
        program = next((name for name in PROGRAMS if line.startswith(str(folder / name))), None)
        if program is None:
            # e.g. an error inside worker_fakes.py or the SDK, reached through an import.
            elsewhere.append(line)
        else:
            by_program[program].append(line.split(":", 1)[1])
    return Report(status, by_program, elsewhere)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_the_program_type_checks(mypy_report: Report, program: str) -> None:
    assert mypy_report.by_program[program] == []


def test_mypy_reports_nothing_anywhere_and_exits_cleanly(mypy_report: Report) -> None:
    assert mypy_report.elsewhere == []
    assert mypy_report.status == 0


def test_a_wrong_use_is_reported(tmp_path: Path) -> None:
    # Guards the guard: the same setup must flag a call with the wrong argument type.
    program = tmp_path / "wrong.py"
    program.write_text(
        textwrap.dedent(
            """
            from durable_workflow import activity

            @activity.defn(name="greet")
            async def greet(name: str) -> str:
                return name

            async def use() -> None:
                await greet(3)

            from durable_workflow.sync import Client

            Client("http://localhost:8080", tiemout=1.0)
            """
        ),
        encoding="utf-8",
    )
    stdout, status = _mypy(tmp_path, program)
    assert status == 1
    assert 'Argument 1 to "greet" has incompatible type "int"; expected "str"' in stdout
    assert 'Unexpected keyword argument "tiemout" for "Client"' in stdout
