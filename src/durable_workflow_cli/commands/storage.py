"""``dw storage:test``: round-trip a small and a large payload through the namespace's storage driver.

The JSON document is the server's answer untouched (cli.md §2.7); the human view is the
overall verdict and one line per test payload. Anything but ``passed`` exits 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..command import Invocation, command
from ..errors import invalid
from ..views import status
from .namespace import DRIVERS

if TYPE_CHECKING:
    from durable_workflow.client import StoragePayloadTestResult


def _payload_line(label: str, result: StoragePayloadTestResult | None) -> tuple[str, str | None]:
    if result is None:
        return (label, None)
    parts = [f"status={result.status}", f"bytes={result.bytes}"]
    if result.sha256:
        parts.append(f"sha256={result.sha256[:16]}…")
    if result.reference_uri:
        parts.append(f"reference={result.reference_uri}")
    return (label, " ".join(parts))


@command(
    "storage:test",
    summary="Test the namespace's external payload storage with a small and a large payload.",
    example="dw storage:test --driver=s3 --large-bytes=3145728",
)
@click.option(
    "--driver", metavar="DRIVER", help="Driver to test: local, s3, gcs, azure (default: the policy's)."
)
@click.option("--small-bytes", type=int, default=128, show_default=True, help="Size of the small payload.")
@click.option(
    "--large-bytes", type=int, default=2097152, show_default=True, help="Size of the large payload."
)
def test(inv: Invocation, driver: str | None, small_bytes: int, large_bytes: int) -> None:
    if driver is not None and driver not in DRIVERS:
        raise invalid(f"Unknown storage driver {driver!r}: use one of {', '.join(DRIVERS)}.")
    if small_bytes < 1 or large_bytes < 1:
        raise invalid("--small-bytes and --large-bytes must be positive numbers of bytes.")
    result = inv.call(
        lambda client: client.test_external_storage(
            driver=driver, small_payload_bytes=small_bytes, large_payload_bytes=large_bytes
        )
    )
    if inv.json:
        inv.out.document(result.raw)
    else:
        inv.out.title(f"External storage test: {result.status}")
        inv.out.fields(
            [
                ("Status", status(result.status)),
                ("Namespace", result.namespace or inv.namespace),
                ("Driver", result.driver),
                _payload_line("Small payload", result.small_payload),
                _payload_line("Large payload", result.large_payload),
            ]
        )
    if not result.passed:
        inv.ctx.exit(1)


COMMANDS = (test,)
