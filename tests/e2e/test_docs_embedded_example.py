"""docs/embedded.md's example, as written, in a fresh interpreter (so ``asyncio.run`` is its own)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "embedded.md"


def _examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_example_runs_and_prints_its_result(tmp_path: Path) -> None:
    (example,) = _examples()
    script = tmp_path / "example.py"
    script.write_text(example)
    for _ in range(2):  # twice on one app.db: the file is reopened, not re-created
        done = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "Hello, Ada!"
    assert (tmp_path / "app.db").exists()
