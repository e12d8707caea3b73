"""``dw`` subcommands, one module per noun (``server.py``, later ``workflow.py``, ``schedule.py``...)."""

from __future__ import annotations

import click

from . import server


def register_all(group: click.Group) -> None:
    """Attach every command module's commands to ``group``."""
    for command in server.COMMANDS:
        group.add_command(command)
