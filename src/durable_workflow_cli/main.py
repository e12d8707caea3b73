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
