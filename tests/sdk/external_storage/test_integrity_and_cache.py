"""Verified fetches (missing, truncated, mutated objects) and the bounded replay cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from durable_workflow.protocol.payload_storage import (
    ExternalPayloadCache,
    ExternalPayloadIntegrityError,
    ExternalPayloadReference,
    LocalFilesystemExternalStorage,
    delete_external_payload,
    fetch_external_blob,
    fetch_external_payload,
    resolve_external_envelope,
    store_external_blob,
    store_external_payload,
)


class CountingDriver:
    """Wraps a driver and counts reads, to tell cache hits from fetches."""

    def __init__(self, inner: LocalFilesystemExternalStorage) -> None:
        self.inner = inner
        self.gets = 0

    def put(self, data: bytes, *, sha256: str, codec: str) -> str:
        return self.inner.put(data, sha256=sha256, codec=codec)

    def get(self, uri: str) -> bytes:
        self.gets += 1
        return self.inner.get(uri)

    def delete(self, uri: str) -> None:
        self.inner.delete(uri)


@pytest.fixture
def storage(tmp_path: Path) -> LocalFilesystemExternalStorage:
    return LocalFilesystemExternalStorage(tmp_path)


def _path(storage: LocalFilesystemExternalStorage, reference: ExternalPayloadReference) -> Path:
    return storage.path_for(reference.uri)


def test_store_describes_the_bytes_exactly(storage: LocalFilesystemExternalStorage) -> None:
    reference = store_external_payload(
        storage, b'{"archived":true}', codec="json", expires_at="2030-01-01T00:00:00Z"
    )
    assert reference.size_bytes == 17
    assert reference.sha256 == hashlib.sha256(b'{"archived":true}').hexdigest()
    assert reference.codec == "json" and reference.expires_at == "2030-01-01T00:00:00Z"
    assert fetch_external_payload(storage, reference) == b'{"archived":true}'
    assert fetch_external_payload(storage, reference.to_dict()) == b'{"archived":true}'


def test_store_refuses_a_bad_codec_before_writing(
    storage: LocalFilesystemExternalStorage, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="codec"):
        store_external_payload(storage, b"x", codec="no/slashes")
    with pytest.raises(TypeError):
        store_external_payload(storage, "text", codec="json")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_a_missing_object(storage: LocalFilesystemExternalStorage) -> None:
    reference = store_external_payload(storage, b"payload", codec="avro")
    _path(storage, reference).unlink()
    with pytest.raises(ExternalPayloadIntegrityError, match="missing") as caught:
        fetch_external_payload(storage, reference)
    assert caught.value.kind == "missing" and caught.value.uri == reference.uri


def test_a_truncated_object(storage: LocalFilesystemExternalStorage) -> None:
    reference = store_external_payload(storage, b"payload", codec="avro")
    _path(storage, reference).write_bytes(b"pay")
    with pytest.raises(ExternalPayloadIntegrityError, match="truncated") as caught:
        fetch_external_payload(storage, reference)
    assert caught.value.kind == "size_mismatch"


def test_a_grown_object(storage: LocalFilesystemExternalStorage) -> None:
    reference = store_external_payload(storage, b"payload", codec="avro")
    _path(storage, reference).write_bytes(b"payload!")
    with pytest.raises(ExternalPayloadIntegrityError) as caught:
        fetch_external_payload(storage, reference)
    assert caught.value.kind == "size_mismatch"


def test_a_mutated_object_of_the_same_size(storage: LocalFilesystemExternalStorage) -> None:
    reference = store_external_payload(storage, b"payload", codec="avro")
    _path(storage, reference).write_bytes(b"PAYLOAD")
    with pytest.raises(ExternalPayloadIntegrityError, match="mutated") as caught:
        fetch_external_payload(storage, reference)
    assert caught.value.kind == "sha256_mismatch"


def test_a_driver_answering_non_bytes_is_refused() -> None:
    class Broken:
        def put(self, data: bytes, *, sha256: str, codec: str) -> str:
            return "mem://x"

        def get(self, uri: str) -> bytes:
            return "text"  # type: ignore[return-value]

        def delete(self, uri: str) -> None:
            pass

    reference = store_external_payload(Broken(), b"text", codec="json")
    with pytest.raises(ValueError, match="not bytes"):
        fetch_external_payload(Broken(), reference)


def test_the_cache_holds_only_verified_bytes(storage: LocalFilesystemExternalStorage) -> None:
    driver = CountingDriver(storage)
    cache = ExternalPayloadCache(max_entries=4, max_bytes=1024)
    reference = store_external_payload(driver, b"payload", codec="avro")
    _path(storage, reference).write_bytes(b"PAYLOAD")
    for _ in range(2):  # a failed verification is not cached: each read goes to the store
        with pytest.raises(ExternalPayloadIntegrityError):
            fetch_external_payload(driver, reference, cache=cache)
    assert driver.gets == 2 and len(cache) == 0
    _path(storage, reference).write_bytes(b"payload")
    assert fetch_external_payload(driver, reference, cache=cache) == b"payload"
    assert fetch_external_payload(driver, reference, cache=cache) == b"payload"
    assert driver.gets == 3 and len(cache) == 1


def test_a_reference_with_another_digest_misses_the_cache(storage: LocalFilesystemExternalStorage) -> None:
    cache = ExternalPayloadCache()
    reference = store_external_payload(storage, b"payload", codec="avro")
    fetch_external_payload(storage, reference, cache=cache)
    forged = ExternalPayloadReference(
        uri=reference.uri, sha256=hashlib.sha256(b"PAYLOAD").hexdigest(), size_bytes=7, codec="avro"
    )
    with pytest.raises(ExternalPayloadIntegrityError):
        fetch_external_payload(storage, forged, cache=cache)


def test_delete_evicts_the_cache_entry(storage: LocalFilesystemExternalStorage) -> None:
    driver = CountingDriver(storage)
    cache = ExternalPayloadCache()
    reference = store_external_payload(driver, b"payload", codec="avro")
    fetch_external_payload(driver, reference, cache=cache)
    delete_external_payload(driver, reference, cache=cache)
    assert len(cache) == 0 and cache.total_bytes == 0
    with pytest.raises(ExternalPayloadIntegrityError, match="missing"):
        fetch_external_payload(driver, reference, cache=cache)


def _ref(n: int, size: int) -> ExternalPayloadReference:
    return ExternalPayloadReference(uri=f"mem://{n}", sha256=f"{n:064x}", size_bytes=size, codec="avro")


def test_the_cache_is_bounded_by_entries_least_recently_used_first() -> None:
    cache = ExternalPayloadCache(max_entries=2, max_bytes=1000)
    cache.put(_ref(1, 1), b"a")
    cache.put(_ref(2, 1), b"b")
    assert cache.get(_ref(1, 1)) == b"a"  # 1 is now the most recently used
    cache.put(_ref(3, 1), b"c")
    assert cache.get(_ref(2, 1)) is None
    assert cache.get(_ref(1, 1)) == b"a" and cache.get(_ref(3, 1)) == b"c"
    assert len(cache) == 2


def test_the_cache_is_bounded_by_bytes() -> None:
    cache = ExternalPayloadCache(max_entries=100, max_bytes=10)
    cache.put(_ref(1, 4), b"aaaa")
    cache.put(_ref(2, 4), b"bbbb")
    cache.put(_ref(3, 4), b"cccc")
    assert cache.total_bytes == 8 and len(cache) == 2
    assert cache.get(_ref(1, 4)) is None
    cache.put(_ref(4, 11), b"x" * 11)  # larger than the whole cache: never held
    assert cache.get(_ref(4, 11)) is None and cache.total_bytes == 8
    cache.put(_ref(2, 4), b"bbbb")  # replacing an entry does not count it twice
    assert cache.total_bytes == 8
    cache.clear()
    assert len(cache) == 0 and cache.total_bytes == 0


@pytest.mark.parametrize(("entries", "size"), [(0, 1), (-1, 1), (1, 0), (1, -5), (True, 1), (1, 1.5)])
def test_the_cache_refuses_non_positive_limits(entries: object, size: object) -> None:
    with pytest.raises(ValueError, match="positive"):
        ExternalPayloadCache(max_entries=entries, max_bytes=size)  # type: ignore[arg-type]


def test_blob_envelopes_round_trip(storage: LocalFilesystemExternalStorage) -> None:
    envelope = store_external_blob(storage, "AARbXQI=", codec="avro")
    assert envelope["codec"] == "avro" and envelope["external_storage"]["size_bytes"] == 8
    assert resolve_external_envelope(envelope, storage) == {"codec": "avro", "blob": "AARbXQI="}
    assert fetch_external_blob(storage, envelope["external_storage"]) == "AARbXQI="
    reference = ExternalPayloadReference.from_dict(envelope["external_storage"])
    _path(storage, reference).write_bytes(b"\xff" * 8)
    with pytest.raises(ExternalPayloadIntegrityError):
        resolve_external_envelope(envelope, storage)


def test_a_stored_object_that_is_not_blob_text_is_refused(storage: LocalFilesystemExternalStorage) -> None:
    reference = store_external_payload(storage, b"\xff\xfe", codec="avro")
    with pytest.raises(ValueError, match="UTF-8"):
        fetch_external_blob(storage, reference)
