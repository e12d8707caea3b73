"""Reading the "CLI and Python Parity" product page: its shared setup and its example pairs.

The page is published with the product docs, outside this repository, and is never copied into
it. ``DW_PARITY_DOCS`` names the file; a relative value is taken from the repository root, and
the default is ``../shared/product/cli-python-parity-docs.txt``. The page is plain text whose
code blocks lost their indentation, so the parser keys on the page's own markers: ``CLI:``
starts a command (lines joined at their trailing backslash), ``Python:`` starts the code beside
it, and the prose after it starts with ``Both calls mean``.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.contract import REPO_ROOT

ENV_VAR = "DW_PARITY_DOCS"
DEFAULT = "../shared/product/cli-python-parity-docs.txt"
PROSE_AFTER_CODE = "Both calls mean"


def docs_path() -> Path:
    """The parity page named by ``DW_PARITY_DOCS`` (it may not exist)."""
    path = Path(os.environ.get(ENV_VAR) or DEFAULT)
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path.resolve()


@dataclass(frozen=True)
class Setup:
    """The page's "Shared Setup": the CLI's variables, the SDK client's arguments, the identifiers."""

    environment: dict[str, str]
    client_args: tuple[Any, ...]
    client_kwargs: dict[str, Any]
    identifiers: dict[str, str]


@dataclass(frozen=True)
class Pair:
    """One example pair: a ``dw`` command line and the Python code beside it.

    Attributes:
        argv: The command's arguments after ``dw`` (the command name first).
        code: The Python example, re-indented under its ``async with client:`` line.
        result_name: The name the Python example binds its result to; an example that only awaits
            a call gets it bound to this name too (see :func:`pairs`).
        method: The ``Client`` method the example calls.
    """

    argv: tuple[str, ...]
    code: str
    result_name: str
    method: str

    @property
    def command(self) -> str:
        return self.argv[0]


RESULT = "_example_result"


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def setup(text: str) -> Setup:
    """The shared setup: ``export NAME=value`` lines, the ``Client(...)`` call, ``name = value`` ids."""
    lines = _lines(text)
    environment = {}
    for line in lines:
        match = re.fullmatch(r"export ([A-Z_][A-Z0-9_]*)=(\S+)", line)
        if match:
            environment[match[1]] = match[2]
    start = lines.index("from durable_workflow import Client")
    code, depth = [], 0
    for line in lines[start + 1 :]:
        code.append(line)
        depth += line.count("(") - line.count(")")
        if depth == 0:
            break
    call = ast.parse("\n".join(code)).body[0]
    assert isinstance(call, ast.Assign) and isinstance(call.value, ast.Call), code
    args = tuple(ast.literal_eval(arg) for arg in call.value.args)
    kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.value.keywords if kw.arg}
    identifiers = {}
    for line in lines:
        match = re.fullmatch(r"([a-z_]+) = ([\w.-]+)", line)
        if match:
            identifiers[match[1]] = match[2]
    return Setup(environment, args, kwargs, identifiers)


TOP_LEVEL_AWAIT = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def _python_block(lines: list[str]) -> tuple[str, str, str]:
    """The example re-indented under its ``async with client:`` (the page lost the indentation),
    the name its result is bound to and the ``Client`` method it calls."""
    assert lines and lines[0] == "async with client:", lines[:1]
    source = "\n".join([lines[0], *("    " + line for line in lines[1:])])
    tree = compile(source, "<parity docs>", "exec", flags=ast.PyCF_ONLY_AST | TOP_LEVEL_AWAIT)
    assert isinstance(tree, ast.Module) and len(tree.body) == 1
    block = tree.body[0]
    assert isinstance(block, ast.AsyncWith) and len(block.body) == 1, "one call per example"
    statement = block.body[0]
    assert isinstance(statement, (ast.Assign, ast.Expr)) and isinstance(statement.value, ast.Await)
    call = statement.value.value
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute), ast.dump(call)
    if isinstance(statement, ast.Assign):
        target = statement.targets[0]
        assert isinstance(target, ast.Name), ast.dump(target)
        return source, target.id, call.func.attr
    # An example that only awaits its call: bind the answer so it can be compared too.
    block.body = [ast.Assign(targets=[ast.Name(RESULT, ast.Store())], value=statement.value, lineno=0)]
    return ast.unparse(ast.fix_missing_locations(tree)), RESULT, call.func.attr


def pairs(text: str) -> list[Pair]:
    """Every ``CLI:`` / ``Python:`` pair of the page, in page order."""
    lines = _lines(text)
    found = []
    for index, line in enumerate(lines):
        if line != "CLI:":
            continue
        python = lines.index("Python:", index)
        command = " ".join(part.removesuffix("\\").strip() for part in lines[index + 1 : python])
        argv = shlex.split(command)
        assert argv[0] == "dw", command
        end = next(i for i in range(python + 1, len(lines)) if lines[i].startswith(PROSE_AFTER_CODE))
        found.append(Pair(tuple(argv[1:]), *_python_block(lines[python + 1 : end])))
    return found
