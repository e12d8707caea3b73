"""In-memory stand-ins for the google-cloud-storage and azure-storage-blob client interfaces.

They implement exactly the calls the drivers document, and fail the way the real clients do:
a missing object raises an exception whose ``code``/``status_code`` is 404.
"""

from __future__ import annotations

from typing import Any


class NotFound(Exception):
    """Like ``google.api_core.exceptions.NotFound``."""

    code = 404


class ResourceNotFoundError(Exception):
    """Like ``azure.core.exceptions.ResourceNotFoundError``."""

    status_code = 404


class ResourceExistsError(Exception):
    status_code = 409


class FakeGCSBlob:
    def __init__(self, store: dict[tuple[str, str], Any], bucket: str, name: str) -> None:
        self._store, self._key = store, (bucket, name)

    def upload_from_string(self, data: bytes, content_type: str | None = None) -> None:
        assert content_type == "application/octet-stream"
        self._store[self._key] = data

    def download_as_bytes(self) -> Any:
        if self._key not in self._store:
            raise NotFound(f"404 GET {self._key}")
        return self._store[self._key]

    def delete(self) -> None:
        if self._key not in self._store:
            raise NotFound(f"404 DELETE {self._key}")
        del self._store[self._key]


class FakeGCSBucket:
    def __init__(self, store: dict[tuple[str, str], Any], name: str) -> None:
        self._store, self.name = store, name

    def blob(self, name: str) -> FakeGCSBlob:
        return FakeGCSBlob(self._store, self.name, name)


class FakeGCSClient:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], Any] = {}

    def bucket(self, name: str) -> FakeGCSBucket:
        return FakeGCSBucket(self.objects, name)


class _Downloader:
    def __init__(self, data: Any) -> None:
        self._data = data

    def readall(self) -> Any:
        return self._data


class FakeContainerClient:
    def __init__(self, container_name: str) -> None:
        self.container_name = container_name
        self.blobs: dict[str, Any] = {}

    def upload_blob(self, name: str, data: bytes, overwrite: bool = False) -> None:
        if name in self.blobs and not overwrite:
            raise ResourceExistsError(name)
        self.blobs[name] = data

    def download_blob(self, name: str) -> _Downloader:
        if name not in self.blobs:
            raise ResourceNotFoundError(f"The specified blob does not exist: {name}")
        return _Downloader(self.blobs[name])

    def delete_blob(self, name: str) -> None:
        if name not in self.blobs:
            raise ResourceNotFoundError(name)
        del self.blobs[name]
