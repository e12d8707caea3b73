"""The wire contract shared by the SDK, the server and the CLI: constants, shapes and the codec.

Imports nothing else from the project and does no I/O, except the external-payload drivers of
``payload_storage``, which act only through the storage object a caller hands them.
"""

from . import codec, commands, errors, history, payload_storage, routes, text, versions, wire
from .codec import PayloadCodecError

__all__ = [
    "PayloadCodecError",
    "codec",
    "commands",
    "errors",
    "history",
    "payload_storage",
    "routes",
    "text",
    "versions",
    "wire",
]
