"""``python -m durable_workflow_server``: run the server from ``DW_*`` settings (``DW_HOST``, ``DW_PORT``)."""

from __future__ import annotations

import os

from . import Settings, serve


def main() -> None:
    settings = Settings.from_env()
    serve(settings, host=os.environ.get("DW_HOST", "0.0.0.0"), port=int(os.environ.get("DW_PORT", "8080")))


if __name__ == "__main__":
    main()
