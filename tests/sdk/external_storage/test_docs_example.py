"""The product docs' External Payload Storage example, as written (its /var/lib root included).

The example writes under ``/var/lib/durable-workflow/payloads``; the test runs it unchanged where
that directory can be made (CI runs as root) and removes what it wrote afterwards.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from durable_workflow.protocol import codec
from durable_workflow.protocol.payload_storage import resolve_external_envelope

DOCS_ROOT = Path("/var/lib/durable-workflow/payloads")


@pytest.fixture
def docs_root() -> Iterator[None]:
    existed = {p for p in (DOCS_ROOT.parent, DOCS_ROOT) if p.exists()}
    before = set(DOCS_ROOT.rglob("*")) if DOCS_ROOT.exists() else set()
    try:
        DOCS_ROOT.mkdir(parents=True, exist_ok=True)
    except PermissionError:
        pytest.skip(f"{DOCS_ROOT} cannot be created by this user (the example's own path)")
    if not os.access(DOCS_ROOT, os.W_OK):
        pytest.skip(f"{DOCS_ROOT} is not writable by this user")
    yield
    for path in sorted(set(DOCS_ROOT.rglob("*")) - before, reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    for path in (DOCS_ROOT, DOCS_ROOT.parent):
        if path not in existed:
            shutil.rmtree(path, ignore_errors=True)


def test_the_external_payload_storage_example_runs_as_written(docs_root: None) -> None:
    # -- the docs' example, unchanged ---------------------------------------------------------
    from durable_workflow import (
        ExternalPayloadCache,
        LocalFilesystemExternalStorage,
        external_storage_envelope,
        to_avro_payload_value,
    )
    from durable_workflow.external_storage import fetch_external_payload, store_external_payload

    storage = LocalFilesystemExternalStorage("/var/lib/durable-workflow/payloads")
    cache = ExternalPayloadCache(max_entries=256, max_bytes=32 * 1024 * 1024)

    payload = to_avro_payload_value({"invoice_pdf": "x" * 1_000_000})
    envelope = external_storage_envelope(
        payload,
        external_storage=storage,
        threshold_bytes=64 * 1024,
    )

    reference = store_external_payload(storage, b'{"archived":true}', codec="json")
    payload_bytes = fetch_external_payload(storage, reference, cache=cache)
    # -----------------------------------------------------------------------------------------

    # The 1 MB invoice is over the 64 KiB threshold: stored, and referenced from the envelope.
    assert set(envelope) == {"codec", "external_storage"} and envelope["codec"] == "avro"
    reference_body = envelope["external_storage"]  # type: ignore[typeddict-item]
    assert reference_body["schema"] == "durable-workflow.v2.external-payload-reference.v1"
    assert reference_body["uri"].startswith("file:///var/lib/durable-workflow/payloads/")
    resolved = resolve_external_envelope(envelope, storage)
    assert codec.decode_envelope(resolved) == {"invoice_pdf": "x" * 1_000_000}

    assert payload_bytes == b'{"archived":true}'
    assert (reference.codec, reference.size_bytes) == ("json", 17)
    assert reference.uri.startswith("file:///var/lib/durable-workflow/payloads/")
    assert cache.get(reference) == payload_bytes  # verified, then cached
    assert len(list(Path("/var/lib/durable-workflow/payloads").rglob("*.*"))) >= 2
