"""Drivers over object stores, each wrapping a client object the application already configured.

No cloud SDK is imported here: each driver calls only the handful of methods it documents, so
any object with those methods works (boto3's S3 client, a google-cloud-storage ``Client``, an
azure-storage-blob ``ContainerClient``, or a test double). Object URIs are
``<scheme>://<bucket>/<prefix><name>``; a driver refuses, with ``ValueError``, a URI of another
scheme, bucket or prefix, so a reference can never make it read outside what it was given.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .driver import object_name

__all__ = ["AzureBlobExternalStorage", "GCSExternalStorage", "S3ExternalStorage"]

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NotFound", "404", "BlobNotFound", "ResourceNotFound"})
_NOT_FOUND_TYPES = frozenset({"NoSuchKey", "NotFound", "ResourceNotFoundError", "FileNotFoundError"})


def normalize_prefix(prefix: str) -> str:
    """``""`` or the prefix with exactly one trailing ``/`` (leading slashes dropped)."""
    if not isinstance(prefix, str):
        raise ValueError("prefix must be a string")
    stripped = prefix.strip("/")
    if any(segment in ("", ".", "..") for segment in stripped.split("/")) and stripped:
        raise ValueError(f"prefix {prefix!r} has an empty, '.' or '..' segment")
    return f"{stripped}/" if stripped else ""


def _bucket_name(bucket: str, what: str) -> str:
    if not isinstance(bucket, str) or not bucket or "/" in bucket:
        raise ValueError(f"{what} must be a non-empty name without '/'")
    return bucket


def is_not_found(exc: BaseException) -> bool:
    """Whether a client raised "no such object", recognised without importing any cloud SDK.

    boto3 puts the code in ``exc.response["Error"]["Code"]``; google-cloud's ``NotFound`` has
    ``code == 404``; azure's ``ResourceNotFoundError`` has ``status_code == 404``.
    """
    # Not KeyError: a bug in a client object must not pass for a missing (non-retryable) object.
    if isinstance(exc, FileNotFoundError):
        return True
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error")
        if isinstance(error, dict) and str(error.get("Code")) in _NOT_FOUND_CODES:
            return True
    if getattr(exc, "code", None) == 404 or getattr(exc, "status_code", None) == 404:
        return True
    return type(exc).__name__ in _NOT_FOUND_TYPES


def _as_bytes(value: object, uri: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise ValueError(f"the storage client returned {type(value).__name__}, not bytes, for {uri}")


class _ObjectStore:
    scheme = ""
    also_read: tuple[str, ...] = ()

    def __init__(self, bucket: str, prefix: str, what: str) -> None:
        self.bucket = _bucket_name(bucket, what)
        self.prefix = normalize_prefix(prefix)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _new_key(self, sha256: str, codec: str) -> str:
        return self.prefix + object_name(sha256=sha256, codec=codec)

    def _uri(self, key: str) -> str:
        return f"{self.scheme}://{self.bucket}/{quote(key, safe='/')}"

    def key_for(self, uri: str) -> str:
        """The object key a URI names, refused unless it is this driver's bucket and prefix."""
        parts = urlsplit(uri)
        key = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
        if parts.scheme not in (self.scheme, *self.also_read) or parts.query or parts.fragment:
            raise ValueError(f"{uri!r} is not a {self.scheme}:// URI of this driver")
        if parts.netloc != self.bucket:
            raise ValueError(f"{uri!r} names {parts.netloc!r}, not this driver's {self.bucket!r}")
        if not key.startswith(self.prefix) or len(key) == len(self.prefix) or key.endswith("/"):
            raise ValueError(f"{uri!r} is outside the prefix {self.prefix!r}")
        # Some clients' HTTP stacks remove dot segments: "prefix/../other" would read another
        # prefix. Refuse them, empty segments and control characters outright.
        if any(segment in ("", ".", "..") for segment in key.split("/")) or not key.isprintable():
            raise ValueError(f"{uri!r} has an empty, '.', '..' or control-character key segment")
        return key

    def get(self, uri: str) -> bytes:
        """The object's bytes (``FileNotFoundError`` when it does not exist)."""
        key = self.key_for(uri)
        try:
            answer = self._read(key)
        except Exception as exc:
            if is_not_found(exc):
                raise FileNotFoundError(f"no stored payload at {uri}") from exc
            raise
        return _as_bytes(self._content(answer), uri)

    def delete(self, uri: str) -> None:
        """Delete the object; a missing one is fine."""
        key = self.key_for(uri)
        try:
            self._remove(key)
        except Exception as exc:
            if not is_not_found(exc):
                raise

    # What each store's client is asked; ``get`` and ``delete`` above own the "not found" rule.
    def _read(self, key: str) -> object:
        raise NotImplementedError

    def _content(self, answer: object) -> object:
        """The stored bytes within what ``_read`` returned (read outside the not-found rule)."""
        return answer

    def _remove(self, key: str) -> None:
        raise NotImplementedError


class S3ExternalStorage(_ObjectStore):
    """Payloads in an S3 (or S3-compatible) bucket through a boto3-style client.

    Uses ``client.put_object(Bucket=, Key=, Body=, ContentType=, Metadata=)``,
    ``client.get_object(Bucket=, Key=)["Body"].read()`` and ``client.delete_object(Bucket=, Key=)``.
    """

    scheme = "s3"

    def __init__(self, client: Any, *, bucket: str, prefix: str = "") -> None:
        super().__init__(bucket, prefix, "bucket")
        self.client = client

    def put(self, data: bytes, *, sha256: str, codec: str) -> str:
        """Upload ``data`` as a new object and return its ``s3://`` URI."""
        key = self._new_key(sha256, codec)
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=bytes(data),
            ContentType="application/octet-stream",
            Metadata={"sha256": sha256, "codec": codec},
        )
        return self._uri(key)

    def _read(self, key: str) -> object:
        return self.client.get_object(Bucket=self.bucket, Key=key)

    def _content(self, answer: object) -> object:
        body = answer.get("Body") if isinstance(answer, dict) else None
        read = getattr(body, "read", None)
        return read() if callable(read) else body

    def delete(self, uri: str) -> None:
        """Delete the object (S3 deletes of a missing key succeed)."""
        self.client.delete_object(Bucket=self.bucket, Key=self.key_for(uri))


class GCSExternalStorage(_ObjectStore):
    """Payloads in a Google Cloud Storage bucket through a google-cloud-storage-style client.

    Uses ``client.bucket(name).blob(key)`` and the blob's ``upload_from_string(data,
    content_type=)``, ``download_as_bytes()`` and ``delete()``.
    """

    scheme = "gs"

    def __init__(self, client: Any, *, bucket: str, prefix: str = "") -> None:
        super().__init__(bucket, prefix, "bucket")
        self.client = client

    def _blob(self, key: str) -> Any:
        return self.client.bucket(self.bucket).blob(key)

    def put(self, data: bytes, *, sha256: str, codec: str) -> str:
        """Upload ``data`` as a new blob and return its ``gs://`` URI."""
        key = self._new_key(sha256, codec)
        self._blob(key).upload_from_string(bytes(data), content_type="application/octet-stream")
        return self._uri(key)

    def _read(self, key: str) -> object:
        return self._blob(key).download_as_bytes()

    def _remove(self, key: str) -> None:
        self._blob(key).delete()


class AzureBlobExternalStorage(_ObjectStore):
    """Payloads in an Azure Blob Storage container through a ``ContainerClient``-style object.

    Uses ``upload_blob(name, data, overwrite=False)``, ``download_blob(name).readall()`` and
    ``delete_blob(name)``. The container name is ``container`` or the client's
    ``container_name``; URIs are ``azure-blob://<container>/<prefix><name>`` (the reference
    SDK's scheme; ``azure://`` is read too).
    """

    scheme = "azure-blob"
    also_read = ("azure",)

    def __init__(self, container_client: Any, *, container: str | None = None, prefix: str = "") -> None:
        name = container if container is not None else getattr(container_client, "container_name", None)
        super().__init__(name if isinstance(name, str) else "", prefix, "container")
        self.container_client = container_client

    @property
    def container(self) -> str:
        """The container this driver stores into."""
        return self.bucket

    def put(self, data: bytes, *, sha256: str, codec: str) -> str:
        """Upload ``data`` as a new blob and return its ``azure-blob://`` URI."""
        key = self._new_key(sha256, codec)
        self.container_client.upload_blob(key, bytes(data), overwrite=False)
        return self._uri(key)

    def _read(self, key: str) -> object:
        return self.container_client.download_blob(key).readall()

    def _remove(self, key: str) -> None:
        self.container_client.delete_blob(key)
