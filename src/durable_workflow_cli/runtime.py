"""What ``dw`` takes from the world outside its arguments: the seam tests replace.

``main`` runs the click app with a default :class:`Runtime`; a test passes its own as the root
context object (``CliRunner().invoke(dw, args, obj=Runtime(transport=...))``) to put an httpx
transport under every SDK ``Client`` the commands create, pin the clock, or force colours.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import httpx


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


async def _sleep(seconds: float) -> None:
    import asyncio  # not at module level: ``dw --help`` does not pay for asyncio

    await asyncio.sleep(seconds)


@dataclass
class Runtime:
    """The process's surroundings, as commands see them.

    Attributes:
        transport: The httpx transport every ``Client`` uses (``None``: real network).
        clock: The current time, for relative times in human output.
        color: Force colours on or off; ``None`` decides from the terminal and ``NO_COLOR``.
        width: Force the output width; ``None`` lets rich measure the terminal (80 off a TTY).
        environ: The variables to read; ``None`` reads ``os.environ`` when asked.
        poll_interval: Seconds between describes of ``--wait`` / ``--follow`` (2 as the reference).
        sleep: How pollers wait between polls (``watch``, ``--wait``, ``--follow``) and the SDK
            client between retries of a failed request; a test
            passes one that counts, or raises ``KeyboardInterrupt`` to play Ctrl-C.
        interactive: Force progress bars and live views on or off; ``None`` shows them only
            when stderr (progress) or stdout (live views) is a terminal.
    """

    transport: httpx.AsyncBaseTransport | None = None
    clock: Callable[[], datetime] = field(default=_utc_now)
    color: bool | None = None
    width: int | None = None
    environ: Mapping[str, str] | None = None
    poll_interval: float = 2.0
    sleep: Callable[[float], Awaitable[None]] = field(default=_sleep)
    interactive: bool | None = None

    def env(self) -> Mapping[str, str]:
        """The environment, read now (a test runner may have changed ``os.environ``)."""
        return os.environ if self.environ is None else self.environ


def current(ctx: click.Context) -> Runtime:
    """The runtime of this invocation (a default one when the caller passed none)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Runtime):
        root.obj = Runtime()
    return root.obj
