"""Storing, fetching (verified) and deleting payload bytes through any driver."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from ..wire import Envelope
from .cache import ExternalPayloadCache
from .driver import ExternalPayloadIntegrityError, ExternalStorageDriver
from .reference import ExternalPayloadReference, ExternalStorageEnvelope, reference_from_envelope

__all__ = [
    "delete_external_payload",
    "fetch_external_blob",
    "fetch_external_payload",
    "resolve_external_envelope",
    "store_external_blob",
    "store_external_payload",
]


def _reference(reference: ExternalPayloadReference | Mapping[str, object]) -> ExternalPayloadReference:
    if isinstance(reference, ExternalPayloadReference):
        return reference
    return ExternalPayloadReference.from_dict(reference)


def store_external_payload(
    driver: ExternalStorageDriver,
    data: bytes,
    *,
    codec: str,
    expires_at: str | None = None,
) -> ExternalPayloadReference:
    """Write ``data`` through ``driver`` and return the reference describing it exactly."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"external payload data must be bytes, not {type(data).__name__}")
    data = bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    # Validate the codec (and expiry) before anything is written.
    ExternalPayloadReference(
        uri="pending:", sha256=digest, size_bytes=len(data), codec=codec, expires_at=expires_at
    )
    uri = driver.put(data, sha256=digest, codec=codec)
    return ExternalPayloadReference(
        uri=uri, sha256=digest, size_bytes=len(data), codec=codec, expires_at=expires_at
    )


def fetch_external_payload(
    driver: ExternalStorageDriver,
    reference: ExternalPayloadReference | Mapping[str, object],
    *,
    cache: ExternalPayloadCache | None = None,
) -> bytes:
    """The referenced bytes, verified: their size and SHA-256 must match the reference.

    ``ExternalPayloadIntegrityError`` when the object is missing, has another size (truncated
    or grown) or another digest (mutated). A ``cache`` is consulted first and filled only with
    bytes that passed the check.
    """
    ref = _reference(reference)
    if cache is not None:
        cached = cache.get(ref)
        if cached is not None:
            return cached
    try:
        raw = driver.get(ref.uri)
    except FileNotFoundError as exc:
        raise ExternalPayloadIntegrityError(ref.uri, "missing", "the stored object is missing") from exc
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise ValueError(f"the storage driver returned {type(raw).__name__}, not bytes, for {ref.uri}")
    data = bytes(raw)
    if len(data) != ref.size_bytes:
        state = "truncated" if len(data) < ref.size_bytes else "larger than referenced"
        raise ExternalPayloadIntegrityError(
            ref.uri, "size_mismatch", f"the stored object is {state} ({len(data)} of {ref.size_bytes} bytes)"
        )
    if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), ref.sha256):
        raise ExternalPayloadIntegrityError(
            ref.uri, "sha256_mismatch", "the stored object's SHA-256 differs from the reference (mutated)"
        )
    if cache is not None:
        cache.put(ref, data)
    return data


def delete_external_payload(
    driver: ExternalStorageDriver,
    reference: ExternalPayloadReference | Mapping[str, object],
    *,
    cache: ExternalPayloadCache | None = None,
) -> None:
    """Delete the referenced object and forget it in ``cache``."""
    ref = _reference(reference)
    if cache is not None:
        cache.discard(ref)
    driver.delete(ref.uri)


# --------------------------------------------------------------------------- blobs and envelopes


def store_external_blob(driver: ExternalStorageDriver, blob: str, *, codec: str) -> ExternalStorageEnvelope:
    """Store an encoded blob (its UTF-8 text is the stored object) and return its envelope.

    This is the form that replaces ``{codec, blob}`` in requests and the blob string in history.
    """
    return store_external_payload(driver, blob.encode("utf-8"), codec=codec).envelope()


def fetch_external_blob(
    driver: ExternalStorageDriver,
    reference: ExternalPayloadReference | Mapping[str, object],
    *,
    cache: ExternalPayloadCache | None = None,
) -> str:
    """The blob text a reference stands for, verified like ``fetch_external_payload``."""
    ref = _reference(reference)
    data = fetch_external_payload(driver, ref, cache=cache)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the stored payload at {ref.uri} is not the UTF-8 text of a blob") from exc


def resolve_external_envelope(
    envelope: Mapping[str, object],
    driver: ExternalStorageDriver,
    *,
    cache: ExternalPayloadCache | None = None,
) -> Envelope:
    """``{codec, external_storage}`` → the ``{codec, blob}`` it stands for (verified)."""
    ref = reference_from_envelope(envelope)
    return {"codec": ref.codec, "blob": fetch_external_blob(driver, ref, cache=cache)}
