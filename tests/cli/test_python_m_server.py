"""``python -m durable_workflow_server`` on a taken port: one line on stderr, exit status 1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def test_port_in_use_is_one_clear_line(tmp_path: object) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = dict(
            os.environ,
            DW_HOST="127.0.0.1",
            DW_PORT=str(port),
            DW_AUTH_TOKEN="t",
            DW_DATABASE_URL=f"sqlite:///{tmp_path}/m.sqlite3",
        )
        done = subprocess.run(
            [sys.executable, "-m", "durable_workflow_server"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("Error: ")
