"""LocalFilesystemExternalStorage: file:// objects under one root, atomic, never outside it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from durable_workflow.protocol.payload_storage import (
    ExternalStorageDriver,
    LocalFilesystemExternalStorage,
    fetch_external_payload,
    store_external_payload,
)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_get_delete_round_trip(tmp_path: Path) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path / "payloads")
    assert isinstance(storage, ExternalStorageDriver)
    uri = storage.put(b"hello", sha256=_sha(b"hello"), codec="avro")
    assert uri.startswith((tmp_path / "payloads").as_uri() + "/")
    assert uri.endswith(".avro")
    assert storage.get(uri) == b"hello"
    storage.delete(uri)
    with pytest.raises(FileNotFoundError):
        storage.get(uri)
    storage.delete(uri)  # deleting a missing object is not an error


def test_equal_bytes_get_distinct_objects(tmp_path: Path) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path)
    first = storage.put(b"same", sha256=_sha(b"same"), codec="avro")
    second = storage.put(b"same", sha256=_sha(b"same"), codec="avro")
    assert first != second
    storage.delete(first)
    assert storage.get(second) == b"same"


def test_a_file_uri_root_is_accepted(tmp_path: Path) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path.as_uri())
    assert storage.root == tmp_path
    reference = store_external_payload(storage, b"x", codec="json")
    assert fetch_external_payload(storage, reference) == b"x"


def test_a_write_leaves_no_temporary_file_behind(tmp_path: Path) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path)
    uri = storage.put(b"abc", sha256=_sha(b"abc"), codec="avro")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p.as_uri() for p in files] == [uri]


def test_a_failed_write_leaves_neither_object_nor_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        storage.put(b"abc", sha256=_sha(b"abc"), codec="avro")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    "uri",
    [
        "file:///etc/passwd",
        "{root}/../outside.avro",
        "{root}/ab/../../outside.avro",
        "{root}",
        "s3://bucket/key",
        "file://otherhost{root_path}/x.avro",
        "relative/path.avro",
        "{root}/x.avro?version=2",
    ],
)
def test_uris_escaping_the_root_are_refused(tmp_path: Path, uri: str) -> None:
    root = tmp_path / "payloads"
    root.mkdir()
    (tmp_path / "outside.avro").write_bytes(b"secret")
    storage = LocalFilesystemExternalStorage(root)
    uri = uri.format(root=root.as_uri(), root_path=str(root))
    for call in (storage.get, storage.delete):
        with pytest.raises(ValueError):
            call(uri)
    assert (tmp_path / "outside.avro").read_bytes() == b"secret"


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "payloads"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"secret")
    (root / "link.avro").symlink_to(secret)
    storage = LocalFilesystemExternalStorage(root)
    with pytest.raises(ValueError, match="escapes"):
        storage.get((root / "link.avro").as_uri())


@pytest.mark.parametrize("root", ["s3://bucket/x", "https://example.test/payloads", "gs://b"])
def test_a_root_of_another_scheme_is_refused(root: str) -> None:
    with pytest.raises(ValueError, match="path or a file:// URI"):
        LocalFilesystemExternalStorage(root)


def test_put_refuses_a_malformed_digest_or_codec(tmp_path: Path) -> None:
    storage = LocalFilesystemExternalStorage(tmp_path)
    with pytest.raises(ValueError, match="sha256"):
        storage.put(b"x", sha256="../../etc", codec="avro")
    with pytest.raises(ValueError, match="codec"):
        storage.put(b"x", sha256=_sha(b"x"), codec="../avro")
    assert list(tmp_path.iterdir()) == []


def test_objects_are_created_with_the_processs_umask_not_private(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        uri = LocalFilesystemExternalStorage(tmp_path).put(b"x", sha256=_sha(b"x"), codec="avro")
    finally:
        os.umask(previous)
    # Group-readable, so a server and workers of one group can share the root.
    assert LocalFilesystemExternalStorage(tmp_path).path_for(uri).stat().st_mode & 0o777 == 0o640
