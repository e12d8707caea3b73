"""External payload storage: references to payload bytes kept outside history.

Shared by the SDK and the server (stdlib only; the drivers are the one part of the protocol
package that does I/O, and only through the driver object a caller hands them).

What is stored
    The object holds the UTF-8 text of the payload's **blob** (for ``avro``: the base64 text of
    the generic wrapper), exactly the string a ``{codec, blob}`` envelope would carry inline.
    Its reference records that text's length (``size_bytes``) and SHA-256.

The wire and history forms
    A request field or task payload that is stored externally is the envelope
    ``{"codec": "avro", "external_storage": <reference>}`` (control-plane.md §6.1), with the
    reference's ``codec`` equal to the envelope's. In **history**, a payload value over the
    namespace threshold (an event's ``input``/``arguments``/``result``/``output`` …) holds that
    same envelope *object* in the place of the blob string; a reader seeing an object whose
    keys are exactly ``codec`` and ``external_storage`` fetches the blob, verifies it and then
    decodes it as usual. ``stored_reference`` also reads the reference engine's string form
    (``dw-external-payload:v1:`` + base64 of the JSON envelope) so its histories resolve too.

Integrity
    ``fetch_external_payload`` checks size then SHA-256 before returning anything and raises
    ``ExternalPayloadIntegrityError`` for a missing, truncated or mutated object; a cache is
    filled only after that check.
"""

from .cache import ExternalPayloadCache
from .driver import ExternalPayloadIntegrityError, ExternalStorageDriver
from .local import LocalFilesystemExternalStorage
from .objects import AzureBlobExternalStorage, GCSExternalStorage, S3ExternalStorage
from .operations import (
    delete_external_payload,
    fetch_external_blob,
    fetch_external_payload,
    resolve_external_envelope,
    store_external_blob,
    store_external_payload,
)
from .reference import (
    EXTERNAL_PAYLOAD_REFERENCE_SCHEMA,
    STORED_REFERENCE_PREFIX,
    ExternalPayloadReference,
    ExternalPayloadReferenceBody,
    ExternalStorageEnvelope,
    is_external_storage_envelope,
    reference_from_envelope,
    stored_reference,
)

__all__ = [
    "EXTERNAL_PAYLOAD_REFERENCE_SCHEMA",
    "STORED_REFERENCE_PREFIX",
    "AzureBlobExternalStorage",
    "ExternalPayloadCache",
    "ExternalPayloadIntegrityError",
    "ExternalPayloadReference",
    "ExternalPayloadReferenceBody",
    "ExternalStorageDriver",
    "ExternalStorageEnvelope",
    "GCSExternalStorage",
    "LocalFilesystemExternalStorage",
    "S3ExternalStorage",
    "delete_external_payload",
    "fetch_external_blob",
    "fetch_external_payload",
    "is_external_storage_envelope",
    "reference_from_envelope",
    "resolve_external_envelope",
    "store_external_blob",
    "store_external_payload",
    "stored_reference",
]
