"""A dependency-free driver keeping payloads as files under one root directory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .driver import object_name

__all__ = ["LocalFilesystemExternalStorage"]


def _root_path(root: str | os.PathLike[str]) -> Path:
    text = os.fspath(root)
    scheme = urlsplit(text).scheme
    # A URI of another scheme would silently become a relative directory ("s3:/bucket/x").
    if scheme and scheme != "file" and not (len(scheme) == 1 and text[1:2] == ":"):
        raise ValueError(f"the local storage root must be a path or a file:// URI, not {text!r}")
    if text.startswith("file:"):
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"file URI {text!r} names a remote host")
        text = unquote(parts.path)
    if not text:
        raise ValueError("the storage root must not be empty")
    return Path(text).expanduser().absolute()


class LocalFilesystemExternalStorage:
    """Stores each payload as a file under ``root`` and names it by a ``file://`` URI.

    ``root`` is a directory path or a ``file://`` URI; it is created on the first write.
    Writes are atomic (a temporary file in the target directory, flushed, then renamed), so a
    reader never sees half an object. ``get`` and ``delete`` refuse, with ``ValueError``, any
    URI that is not ``file://`` or resolves (symbolic links followed) outside the root.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = _root_path(root)

    def __repr__(self) -> str:
        return f"LocalFilesystemExternalStorage({str(self.root)!r})"

    def put(self, data: bytes, *, sha256: str, codec: str) -> str:
        """Write ``data`` to a new file and return its ``file://`` URI."""
        path = self.root / object_name(sha256=sha256, codec=codec)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.parent / f".tmp-{secrets.token_hex(8)}.part"
        # Created like any file (mode 0o666 less the umask), not mkstemp's 0o600: the server
        # and the workers sharing a local root often run as different users of one group.
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(bytes(data))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return path.as_uri()

    def get(self, uri: str) -> bytes:
        """The bytes stored under ``uri`` (``FileNotFoundError`` when there is none)."""
        path = self.path_for(uri)
        if not path.is_file():
            raise FileNotFoundError(f"no stored payload at {uri}")
        return path.read_bytes()

    def delete(self, uri: str) -> None:
        """Remove the object under ``uri``; a missing one is fine."""
        self.path_for(uri).unlink(missing_ok=True)

    def path_for(self, uri: str) -> Path:
        """The file a ``file://`` URI names, refused unless it lies inside the root."""
        parts = urlsplit(uri)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise ValueError(f"{uri!r} is not a file:// URI of this storage")
        path = Path(unquote(parts.path))
        root = self.root.resolve()
        resolved = path.resolve()
        if not path.is_absolute() or resolved == root or not resolved.is_relative_to(root):
            raise ValueError(f"{uri!r} escapes the storage root {str(self.root)!r}")
        return resolved
