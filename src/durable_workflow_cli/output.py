"""All terminal output of ``dw`` goes through here (the only module that prints).

Human text goes to stdout, diagnostics to stderr, and ``--json`` mode prints exactly one
compact JSON document on stdout so scripts can parse it.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def line(text: str = "") -> None:
    """A line of human output on stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def note(text: str) -> None:
    """A diagnostic line on stderr (never mixed into JSON output)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def error(text: str) -> None:
    """An error message on stderr."""
    sys.stderr.write(f"Error: {text}\n")
    sys.stderr.flush()


def document(value: Any) -> None:
    """One compact JSON document on stdout."""
    sys.stdout.write(json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n")
    sys.stdout.flush()
