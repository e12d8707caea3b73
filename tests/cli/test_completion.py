"""Shell completion: the scripts, and the candidates click's completion protocol answers.

Candidates are asked for the way the scripts ask (``_DW_COMPLETE=<shell>_complete`` plus the
shell's variables), in process, with the real server behind the CLI's transport seam for the
workflow ids and namespaces it looks up. The bash script itself is also run in a real bash,
which splits words at colons, to check that ``workflow:des<TAB>`` completes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from durable_workflow_cli.completion import _completer_for
from durable_workflow_cli.runtime import Runtime
from tests.helpers.cli import ServerThread, invoke, server_thread
from tests.helpers.e2e_env import TOKEN, e2e_settings


def bash_candidates(line: str, *, env: dict[str, str] | None = None, **kwargs: Any) -> list[str]:
    shell = {"_DW_COMPLETE": "bash_complete", "COMP_LINE": line, **(env or {})}
    result = invoke([], env=shell, **kwargs)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return [entry.split(",", 1)[1] for entry in result.stdout.splitlines() if entry.startswith("plain,")]


def test_the_scripts_of_each_shell(tmp_path: Path) -> None:
    scripts = {
        shell: invoke(["completion", shell], config_home=tmp_path) for shell in ("bash", "zsh", "fish")
    }
    assert all(result.exit_code == 0 for result in scripts.values())
    assert "complete -o nosort -F _dw_completion dw" in scripts["bash"].stdout
    assert "_DW_COMPLETE=bash_complete" in scripts["bash"].stdout
    assert "compdef _dw_completion dw" in scripts["zsh"].stdout
    assert "complete --no-files --command dw" in scripts["fish"].stdout
    # No shell named: the one in $SHELL, else a clear exit 2.
    assert (
        invoke(["completion"], env={"SHELL": "/bin/zsh"}, config_home=tmp_path).stdout
        == scripts["zsh"].stdout
    )
    unknown = invoke(["completion"], env={"SHELL": "/bin/tcsh"}, config_home=tmp_path)
    assert unknown.exit_code == 2 and "dw completion bash|zsh|fish" in unknown.stderr


def test_colon_command_names_and_option_names() -> None:
    assert bash_candidates("dw workflow:des") == ["workflow:describe"]
    assert "workflow:replay" in bash_candidates("dw workflow:")
    assert {"doctor", "watch", "completion", "workflow:start"} <= set(bash_candidates("dw "))
    assert bash_candidates("dw workflow:list --st") == ["--status"]
    assert "--history-file" in bash_candidates("dw workflow:replay --")
    # The grouped syntax: verbs after the group word, then the command's own options.
    assert bash_candidates("dw schedules cr") == ["create"]
    assert bash_candidates("dw search-attributes ") == ["create", "delete", "list"]
    assert bash_candidates("dw schedules list --st") == ["--status"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("dw workflow:list --status ", ["running", "completed", "failed"]),
        ("dw workflow:list --status=c", ["completed"]),
        ("dw workflow:update wf-1 approve --wait ", ["accepted", "completed"]),
        ("dw workflow:start --duplicate-policy ", ["fail", "use-existing"]),
        ("dw workflow:signal wf-1 go --input-encoding ", ["json", "raw", "base64"]),
        ("dw workflow:list --output ", ["table", "json", "jsonl"]),
        ("dw watch ", ["workflow", "workflows"]),
        ("dw watch workflows --status r", ["running"]),
        ("dw workflow:list --tls-verify ", ["true", "false"]),
    ],
)
def test_value_choices(line: str, expected: list[str]) -> None:
    assert bash_candidates(line) == expected


@pytest.mark.parametrize(
    ("command", "decls", "expected"),
    [
        ("schedule:list", ["--status"], ["active", "paused"]),
        ("worker:list", ["--status"], ["active", "stale", "draining"]),
        ("schedule:create", ["--overlap-policy"], ["skip", "buffer_one", "buffer_all"]),
        ("storage:test", ["--driver"], ["local", "s3", "gcs", "azure"]),
        ("server:start-dev", ["--db"], ["sqlite", "mysql", "pgsql"]),
        ("activity:fail", ["--failure-kind"], ["application", "timeout", "cancellation"]),
        ("activity:fail", ["--timeout-type"], ["schedule_to_start", "start_to_close"]),
    ],
)
def test_value_tables_of_other_areas(command: str, decls: list[str], expected: list[str]) -> None:
    """The §3.13 lists for options of every area, whichever module declares the command."""
    option = click.Option(decls)
    completer = _completer_for(command, option, 0)
    assert completer is not None
    values = [item.value for item in completer(click.Context(click.Command(command)), option, "")]
    assert values[: len(expected)] == expected


def test_argument_value_tables() -> None:
    context = click.Context(click.Command("x"))
    for command, index, first in (
        ("search-attribute:create", 1, "keyword"),
        ("namespace:set-storage-driver", 1, "local"),
    ):
        argument = click.Argument(["value"])
        completer = _completer_for(command, argument, index)
        assert completer is not None and completer(context, argument, "")[0].value == first


def test_profiles_complete_from_the_config_file(tmp_path: Path) -> None:
    for name in ("prod", "staging"):
        assert invoke(["env:set", name, "--server=http://x"], config_home=tmp_path).exit_code == 0
    assert bash_candidates("dw workflow:list --env ", config_home=tmp_path) == ["prod", "staging"]
    assert bash_candidates("dw env:use st", config_home=tmp_path) == ["staging"]


# ---------------------------------------------------------------------------- from the server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    folder = tmp_path_factory.mktemp("completion")
    with server_thread(e2e_settings(f"sqlite:///{folder / 'completion.sqlite3'}")) as srv:
        for workflow_id in ("order-1", "order-2", "invoice-9"):
            started = invoke(
                ["--server=http://testserver", f"--token={TOKEN}", "workflow:start", "--type=t",
                 f"--workflow-id={workflow_id}"],
                transport=srv.transport(),
                config_home=folder,
            )  # fmt: skip
            assert started.exit_code == 0, started.output
        yield srv


def from_server(srv: ServerThread, line: str, tmp_path: Path) -> list[str]:
    return bash_candidates(line, transport=srv.transport(), config_home=tmp_path)


def test_workflow_ids_come_from_the_server(server: ServerThread, tmp_path: Path) -> None:
    before = f"dw --server=http://testserver --token={TOKEN}"
    assert from_server(server, f"{before} workflow:describe order-", tmp_path) == ["order-2", "order-1"]
    assert from_server(server, f"{before} workflow:replay inv", tmp_path) == ["invoice-9"]
    # The connection flags may also follow the command name, as everywhere else.
    after = f"dw workflow:signal --server=http://testserver --token={TOKEN} o"
    assert from_server(server, after, tmp_path) == ["order-2", "order-1"]
    # With the environment variables, as a shell session would have them.
    env = {"DURABLE_WORKFLOW_SERVER_URL": "http://testserver", "DURABLE_WORKFLOW_AUTH_TOKEN": TOKEN}
    found = bash_candidates(
        "dw watch workflow ord", transport=server.transport(), config_home=tmp_path, env=env
    )
    assert found == ["order-2", "order-1"]


def test_namespaces_come_from_the_server(server: ServerThread, tmp_path: Path) -> None:
    before = f"dw --server=http://testserver --token={TOKEN}"
    assert from_server(server, f"{before} workflow:list --namespace ", tmp_path) == ["default"]
    assert from_server(server, f"{before} --namespace=d", tmp_path) == ["default"]


def test_a_server_that_refuses_or_is_absent_gives_no_candidates_and_no_noise(
    server: ServerThread, tmp_path: Path
) -> None:
    assert (
        from_server(server, "dw --server=http://testserver --token=wrong workflow:describe ", tmp_path) == []
    )
    # Nothing listens on port 9: the look-up fails fast, silently (bash_candidates checks stderr).
    runtime = Runtime()
    assert bash_candidates("dw --server=http://127.0.0.1:9 workflow:describe ", runtime=runtime) == []


def test_zsh_and_fish_protocols() -> None:
    zsh = invoke([], env={"_DW_COMPLETE": "zsh_complete", "COMP_WORDS": "dw workflow:des", "COMP_CWORD": "1"})
    assert zsh.stdout.splitlines()[:2] == ["plain", r"workflow\:describe"]
    fish = invoke(
        [],
        env={"_DW_COMPLETE": "fish_complete", "COMP_WORDS": "dw workflow:list --status ", "COMP_CWORD": ""},
    )
    assert fish.stdout.splitlines() == ["plain,running", "plain,completed", "plain,failed"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash on this machine")
def test_the_bash_script_in_a_real_bash(tmp_path: Path) -> None:
    script = tmp_path / "dw.bash"
    script.write_text(invoke(["completion", "bash"], config_home=tmp_path).stdout)
    driver = tmp_path / "drive.sh"
    # Bash itself splits the line into COMP_WORDS (at blanks and at ':'), as when Tab is hit.
    driver.write_text(
        f"source {script}\n"
        "complete_line() {\n"
        '  COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}\n'
        '  local split="${COMP_LINE//:/ : }"\n'
        '  read -ra COMP_WORDS <<< "$split"\n'
        '  [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")\n'
        "  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
        "  _dw_completion dw\n"
        '  printf "%s\\n" "${COMPREPLY[@]}"\n'
        '  echo "--"\n'
        "}\n"
        'complete_line "dw workflow:des"\n'
        'complete_line "dw workflow:list-r"\n'
        'complete_line "dw workflow:"\n'
        'complete_line "dw workflow:list --status "\n'
    )
    bin_dir = str(Path(sys.executable).parent)
    done = subprocess.run(
        ["bash", str(driver)],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
            "DW_CONFIG_HOME": str(tmp_path),
        },
    )
    assert done.returncode == 0, done.stderr
    blocks = [block.strip().splitlines() for block in done.stdout.split("--\n")][:4]
    # Bash replaces its own current word: the part after the last colon (or the colon itself).
    assert blocks[0] == ["describe"]
    assert blocks[1] == ["list-runs"]
    assert ":describe" in blocks[2] and ":replay" in blocks[2]
    assert blocks[3] == ["running", "completed", "failed"]
