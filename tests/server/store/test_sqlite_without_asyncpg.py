"""The SQLite server works without the `[postgres]` extra (no asyncpg installed).

`make quickstart` installs only `[server,cli]`, so nothing on the SQLite path may import asyncpg.
The check runs in a fresh interpreter where importing asyncpg fails.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent(
    """
    import asyncio, sys
    sys.modules["asyncpg"] = None  # any `import asyncpg` now raises ImportError

    from durable_workflow_server import Settings, create_app
    from durable_workflow_server.engine.service import Engine

    async def main():
        engine = Engine(Settings(database_url="sqlite://"))
        await engine.open()
        try:
            assert await engine.database_ok()
            assert await engine.namespace_exists("default")
        finally:
            await engine.close()
        create_app(Settings(database_url="sqlite://", auth_token="t"))
        print("ok")

    asyncio.run(main())
    """
)


def test_sqlite_server_needs_no_asyncpg() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
