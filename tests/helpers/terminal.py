"""A real pseudo-terminal for ``dw``: an interactive shell driven by pexpect, as a person types.

:class:`Terminal` starts ``bash`` in a pty of a given size (80 columns by default) with
``.venv/bin`` first on ``PATH``, so ``dw`` is the installed console script. :meth:`Terminal.run`
types one command line, waits for the next prompt (whose text carries ``$?``) and returns what
the terminal showed: :class:`Screen` keeps the raw bytes (colours and cursor moves included) and
the text a person reads (escape sequences removed, carriage-return redraws resolved).
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pexpect

BIN = Path(sys.executable).parent
PROMPT = "[tty {status}]$ "
PROMPT_RE = r"\[tty (\d+)\]\$ "
# CSI (colours, cursor and line control) and OSC (titles, links) sequences; a lone ESC pair.
ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]")
SGR_COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7])[0-9;]*m")


@dataclass(frozen=True)
class Screen:
    """What one command showed in the terminal, and how it exited."""

    raw: str
    exit_code: int

    @property
    def text(self) -> str:
        """The output as read on the screen: no escape sequences, one string per line."""
        return "\n".join(self.lines)

    @property
    def lines(self) -> list[str]:
        """The lines a person sees: a line redrawn after ``\\r`` shows its last drawing."""
        shown = []
        for line in ESCAPES.sub("", self.raw).replace("\r\n", "\n").split("\n"):
            shown.append(line.split("\r")[-1] if "\r" in line.rstrip("\r") else line.rstrip("\r"))
        while shown and not shown[-1].strip():
            shown.pop()
        return shown

    @property
    def coloured(self) -> bool:
        """Whether the output set a foreground colour anywhere."""
        return SGR_COLOUR.search(self.raw) is not None

    def coloured_word(self, word: str) -> bool:
        """Whether ``word`` is printed right after a colour was set (a coloured status word)."""
        return re.search(r"\x1b\[[0-9;]*(3[0-7]|9[0-7])[0-9;]*m" + re.escape(word), self.raw) is not None


class Terminal:
    """An interactive shell in a pseudo-terminal of ``width`` x ``height`` characters."""

    def __init__(
        self, cwd: Path, env: Mapping[str, str], *, width: int = 80, height: int = 50, timeout: float = 60
    ) -> None:
        environment = {
            "PATH": f"{BIN}:/usr/bin:/bin",
            "HOME": str(cwd),
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PS1": PROMPT.format(status="$?"),
            "PS2": "",
            "DW_CONFIG_HOME": str(cwd / "dw-config"),
            **env,
        }
        with warnings.catch_warnings():
            # forkpty() in a process with threads: the child execs bash at once, so it is safe.
            warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
            self.child = pexpect.spawn(
                "bash",
                ["--norc", "--noprofile"],
                cwd=str(cwd),
                env=environment,
                dimensions=(height, width),
                encoding="utf-8",
                codec_errors="replace",
                timeout=timeout,
            )
        self.child.expect(PROMPT_RE)

    def run(self, command: str) -> Screen:
        """Type ``command`` and Enter; return what the terminal showed until the next prompt."""
        self.child.sendline(command)
        self.child.expect(PROMPT_RE)
        shown = self.child.before or ""
        # The terminal echoes what was typed: the output starts after that first line.
        _echo, _, output = shown.partition("\n")
        return Screen(raw=output, exit_code=int(self.child.match.group(1)))

    def close(self) -> None:
        """End the shell (and anything still running in it)."""
        self.child.sendline("exit")
        self.child.expect(pexpect.EOF)
        self.child.close()
