"""Entry point of the ``dw`` console script.

It imports nothing optional at module level, so a missing ``[cli]`` extra turns into an install
hint instead of a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

CLI_INSTALL_HINT = "dw needs the CLI extra: pip install 'durable-workflow[cli]'"


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``dw`` with ``argv`` (default: the process arguments)."""
    # httpx imports its own command-line client (pygments, rich.progress, rich.syntax ...) when
    # click and rich are installed, as they are here: ~90 ms of every server-talking command for
    # a module dw never runs. A None entry makes that one import fail, and httpx falls back to
    # its stub ``main`` (the documented behaviour of sys.modules).
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    try:
        from .cli import dw
    except ImportError as exc:
        if exc.name not in {"click", "rich"}:
            raise
        sys.stderr.write(CLI_INSTALL_HINT + "\n")
        raise SystemExit(1) from None
    dw.main(args=list(argv) if argv is not None else None, prog_name="dw")


if __name__ == "__main__":
    main()
