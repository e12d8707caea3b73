"""The driver protocol every external payload store implements, and the errors around it."""

from __future__ import annotations

import re
import secrets
from typing import Protocol, runtime_checkable

__all__ = ["ExternalPayloadIntegrityError", "ExternalStorageDriver"]


@runtime_checkable
class ExternalStorageDriver(Protocol):
    """Where payload bytes too large for history are kept.

    ``put`` stores ``data`` (whose digest and codec the caller already knows) and returns the
    URI to read it back by; ``get`` returns the bytes stored under a URI, raising
    ``FileNotFoundError`` when there is no such object and ``ValueError`` for a URI the driver
    does not own; ``delete`` removes an object (deleting a missing one is not an error).
    """

    def put(self, data: bytes, *, sha256: str, codec: str) -> str: ...

    def get(self, uri: str) -> bytes: ...

    def delete(self, uri: str) -> None: ...


class ExternalPayloadIntegrityError(Exception):
    """Stored payload bytes do not match their reference: missing, truncated or changed.

    ``kind`` is ``"missing"``, ``"size_mismatch"`` or ``"sha256_mismatch"``; ``uri`` names the
    object. Never retried into success: the reference in history is the source of truth.
    Deliberately not a ``ValueError`` (unlike the reference SDK's): the SDK and the server
    catch ``ValueError`` for malformed input, and a changed stored object is a different
    failure that must reach the caller as itself.
    """

    def __init__(self, uri: str, kind: str, message: str) -> None:
        super().__init__(f"external payload {uri}: {message}")
        self.uri = uri
        self.kind = kind


def object_name(*, sha256: str, codec: str) -> str:
    """A fresh object name for one stored payload.

    Names are unique per write, not content-addressed: two runs storing equal bytes get two
    objects, so deleting one run's payload (retention) never breaks the other's reference.
    The digest leads, fanned out by its first two characters, to keep directories small and
    objects recognisable.
    """
    if re.fullmatch(r"[0-9a-f]{64}", sha256) is None:
        raise ValueError("sha256 must be 64 lower-case hexadecimal characters")
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", codec) is None:
        raise ValueError(f"codec {codec!r} is not a codec name")
    return f"{sha256[:2]}/{sha256}-{secrets.token_hex(8)}.{codec}"
