"""The wire contract shared by the SDK, the server and the CLI: constants, shapes and the codec.

Imports nothing else from the project and does no I/O.
"""

from . import codec, commands, errors, history, routes, text, versions, wire
from .codec import PayloadCodecError

__all__ = [
    "PayloadCodecError",
    "codec",
    "commands",
    "errors",
    "history",
    "routes",
    "text",
    "versions",
    "wire",
]
