"""``python -m durable_workflow_server``: run the server from ``DW_*`` settings (``DW_HOST``, ``DW_PORT``)."""

from __future__ import annotations

import os
import sys

from . import Settings, serve
from .app import ServerStartError


def main() -> None:
    try:
        settings = Settings.from_env()
        settings.check_auth()
    except ValueError as exc:  # a malformed DW_* value or an auth configuration that cannot serve
        print(f"Error: cannot start: {exc}", file=sys.stderr)
        sys.exit(1)
    try:
        serve(
            settings, host=os.environ.get("DW_HOST", "0.0.0.0"), port=int(os.environ.get("DW_PORT", "8080"))
        )
    except ServerStartError as exc:
        # One clear line, not a traceback: the address is taken or the database cannot be opened.
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
