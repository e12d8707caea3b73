"""``dw completion [bash|zsh|fish]``: print the shell completion script (cli.md §3.13).

The machinery (value hints, the server look-ups, bash's colon handling) is in
``durable_workflow_cli.completion``, imported only when a script or a completion is asked for.
"""

from __future__ import annotations

import os

import click

from ..command import Invocation, command
from ..errors import invalid

SHELLS = ("bash", "zsh", "fish")
_SETUP = {
    "bash": 'eval "$(dw completion bash)"    # in ~/.bashrc',
    "zsh": 'eval "$(dw completion zsh)"     # in ~/.zshrc',
    "fish": "dw completion fish | source    # in ~/.config/fish/config.fish",
}


@command(
    "completion",
    summary="Print the shell completion script (bash, zsh or fish).",
    example='eval "$(dw completion bash)"',
    server=False,
    output=False,
    namespaced=False,
)
@click.argument("shell", required=False, type=click.Choice(SHELLS))
def completion(inv: Invocation, shell: str | None) -> None:
    if shell is None:
        # As the reference: the shell this runs in, when it is one we complete.
        found = os.path.basename(inv.runtime.env().get("SHELL", ""))
        if found not in SHELLS:
            raise invalid(
                "Name the shell: dw completion bash|zsh|fish.", command='eval "$(dw completion bash)"'
            )
        shell = found
    from ..completion import script

    root = inv.ctx.find_root().command
    click.echo(script(root, shell), nl=False)
    if not os.isatty(1):
        return
    inv.out.note(f"# Enable it with: {_SETUP[shell]}")


COMMANDS = (completion,)
