"""External payload storage: keep large payloads out of workflow history.

The reference contract, the drivers and the verified fetch are shared with the server (they
live in :mod:`durable_workflow.protocol.payload_storage` and are re-exported here); this module
adds what only an application needs: building an envelope that goes external above a threshold,
building a driver from a namespace's ``external_payload_storage`` policy, and turning rich
Python values into the JSON-native values an Avro payload holds. A ``Client`` given
``external_storage=`` does all of this itself for the payloads it sends and reads.

No cloud SDK is a dependency: the S3, GCS and Azure drivers wrap clients the application made.
"""

from __future__ import annotations

import base64
import dataclasses
import math
import os
from collections.abc import Mapping, Set
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from .protocol import codec as _codec
from .protocol.payload_storage import (
    EXTERNAL_PAYLOAD_REFERENCE_SCHEMA,
    AzureBlobExternalStorage,
    ExternalPayloadCache,
    ExternalPayloadIntegrityError,
    ExternalPayloadReference,
    ExternalStorageDriver,
    ExternalStorageEnvelope,
    GCSExternalStorage,
    LocalFilesystemExternalStorage,
    S3ExternalStorage,
    delete_external_payload,
    fetch_external_payload,
    store_external_blob,
    store_external_payload,
)
from .protocol.wire import Envelope, ExternalPayloadStoragePolicy

__all__ = [
    "DEFAULT_THRESHOLD_BYTES",
    "EXTERNAL_PAYLOAD_REFERENCE_SCHEMA",
    "AzureBlobExternalStorage",
    "ExternalPayloadCache",
    "ExternalPayloadIntegrityError",
    "ExternalPayloadReference",
    "ExternalStorageDriver",
    "GCSExternalStorage",
    "LocalFilesystemExternalStorage",
    "S3ExternalStorage",
    "delete_external_payload",
    "external_storage_driver_from_policy",
    "external_storage_envelope",
    "fetch_external_payload",
    "store_external_payload",
    "to_avro_payload_value",
]

# The threshold of ``external_storage_envelope`` when none is given.
DEFAULT_THRESHOLD_BYTES = 262_144


# --------------------------------------------------------------------------- envelopes


def _check_threshold(threshold_bytes: object) -> int:
    if type(threshold_bytes) is not int or threshold_bytes < 1:
        raise ValueError(f"threshold_bytes must be a positive integer, got {threshold_bytes!r}")
    return threshold_bytes


def external_storage_envelope(
    value: Any,
    *,
    external_storage: ExternalStorageDriver | None = None,
    threshold_bytes: int = DEFAULT_THRESHOLD_BYTES,
    codec: str = "avro",
) -> Envelope | ExternalStorageEnvelope:
    """Encode ``value`` as an Avro payload envelope, inline or through external storage.

    While the encoded blob is at most ``threshold_bytes`` long the answer is the inline
    ``{"codec": "avro", "blob": ...}``; above it the blob is written through
    ``external_storage`` and the answer is ``{"codec": "avro", "external_storage": <reference>}``,
    the form servers and workers resolve. ``value`` must be JSON-native (see
    :func:`to_avro_payload_value`).

    Raises:
        ValueError: ``threshold_bytes`` is not a positive integer, ``codec`` is not ``avro``
            (the only payload codec), or the blob crosses the threshold and there is no driver
            to store it with.
        PayloadCodecError: ``value`` cannot be encoded.
    """
    threshold = _check_threshold(threshold_bytes)
    if codec != _codec.AVRO:
        raise ValueError(f"payload codec {codec!r} is not supported (only {_codec.AVRO!r})")
    envelope = _codec.envelope(value)
    if len(envelope["blob"]) <= threshold:
        return envelope
    if external_storage is None:
        raise ValueError(
            f"the encoded payload is {len(envelope['blob'])} bytes, over the {threshold}-byte threshold, "
            "and no external_storage driver was given to store it"
        )
    return store_external_blob(external_storage, envelope["blob"], codec=envelope["codec"])


# --------------------------------------------------------------------------- policies


def _policy_fields(policy: object) -> Mapping[str, Any]:
    """The policy as a mapping: a dict as the server sends it, or an object with its attributes."""
    if isinstance(policy, Mapping):
        if "external_payload_storage" in policy:  # a namespace body
            return _policy_fields(policy["external_payload_storage"])
        return policy
    if policy is None:
        raise ValueError("the namespace has no external_payload_storage policy")
    if hasattr(policy, "external_payload_storage"):  # a NamespaceDescription itself
        return _policy_fields(policy.external_payload_storage)
    fields = {key: getattr(policy, key) for key in ("driver", "enabled", "config") if hasattr(policy, key)}
    if "driver" not in fields:
        raise ValueError(f"{type(policy).__name__} is not an external_payload_storage policy")
    return fields


def _config_text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"external_payload_storage config.{key} must be a string")
    return value


def external_storage_driver_from_policy(
    policy: ExternalPayloadStoragePolicy | Mapping[str, Any] | object | None,
    *,
    s3_client: Any = None,
    gcs_client: Any = None,
    azure_container_client: Any = None,
    local_root: str | os.PathLike[str] | None = None,
) -> ExternalStorageDriver:
    """The driver a namespace's ``external_payload_storage`` policy describes.

    ``policy`` is the policy (``{driver, enabled, threshold_bytes?, config?}``) as
    ``describe_namespace(...).external_payload_storage`` holds it, a mapping or namespace
    description holding it, or an object with those attributes. ``local`` stores under
    ``local_root`` or else ``config.uri`` (a ``file://`` URI or a path; a server using its own
    default directory sends none, so pass ``local_root``); ``s3`` and ``gcs`` need
    ``config.bucket`` and the matching client; ``azure`` (or ``azure-blob``) needs
    ``config.container`` or ``config.bucket`` and a container client. ``config.prefix`` is
    honoured by all three. Driver names are case-insensitive.

    Raises:
        ValueError: The policy is disabled (branch on ``enabled`` first: there is no no-op
            driver), names an unsupported driver, or lacks the client, bucket, container or uri
            its driver needs.
    """
    fields = _policy_fields(policy)
    driver = fields.get("driver")
    if isinstance(driver, str):
        driver = {"azure-blob": "azure"}.get(driver.lower(), driver.lower())
    if fields.get("enabled", True) is not True:
        raise ValueError(f"the external_payload_storage policy (driver {driver!r}) is disabled")
    config = fields.get("config") or {}
    if not isinstance(config, Mapping):
        raise ValueError("external_payload_storage config must be an object")
    prefix = _config_text(config, "prefix") or ""
    # Azure's container may be named ``container`` (read first, as SDK 0.4.84 does) or ``bucket``.
    bucket = (_config_text(config, "container") if driver == "azure" else None) or _config_text(
        config, "bucket"
    )
    if driver == "local":
        root = local_root if local_root is not None else _config_text(config, "uri")
        if root is None:
            raise ValueError(
                "the local external_payload_storage policy has no config.uri: pass local_root= (its root)"
            )
        return LocalFilesystemExternalStorage(root)
    if driver not in ("s3", "gcs", "azure"):
        raise ValueError(f"unsupported external payload storage driver {driver!r}")
    client = {"s3": s3_client, "gcs": gcs_client, "azure": azure_container_client}[driver]
    argument = {"s3": "s3_client", "gcs": "gcs_client", "azure": "azure_container_client"}[driver]
    if client is None:
        raise ValueError(f"the {driver} external_payload_storage policy needs {argument}=")
    if bucket is None:
        what = "config.container or config.bucket" if driver == "azure" else "config.bucket"
        raise ValueError(f"the {driver} external_payload_storage policy needs {what}")
    if driver == "s3":
        return S3ExternalStorage(client, bucket=bucket, prefix=prefix)
    if driver == "gcs":
        return GCSExternalStorage(client, bucket=bucket, prefix=prefix)
    own = getattr(client, "container_name", None)
    if isinstance(own, str) and own and own != bucket:
        raise ValueError(f"azure_container_client is for container {own!r}, the policy names {bucket!r}")
    return AzureBlobExternalStorage(client, container=bucket, prefix=prefix)


# --------------------------------------------------------------------------- values


def _key(key: Any) -> str:
    if isinstance(key, Enum):
        key = key.value
    if isinstance(key, str):
        return key
    if isinstance(key, (int, UUID)) and not isinstance(key, bool):
        return str(key)
    raise TypeError(f"payload map keys must be strings, not {type(key).__name__}")


def to_avro_payload_value(value: Any) -> Any:
    """``value`` as the JSON-native value an Avro payload holds (lists, string-keyed dicts, scalars).

    An explicit, deterministic conversion to call before encoding rich values: enums become
    their values, ``datetime``/``date``/``time`` ISO-8601 text, ``UUID`` and ``Decimal`` text,
    bytes standard base64 text, dataclasses and pydantic models dicts of their fields, tuples
    lists, and sets sorted lists (so the recorded history does not depend on hash order).
    What comes back is what the workflow will see after a round trip through history.

    Raises:
        TypeError: A value (or map key) has no JSON-native form; a set cannot be sorted.
        ValueError: A float is NaN or infinite.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Enum):
        return to_avro_payload_value(value.value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"payload floats must be finite, got {value!r}")
        return float(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        converted: dict[str, Any] = {}
        for key, item in value.items():
            name = _key(key)
            if name in converted:  # 1 and "1" would silently become one key
                raise TypeError(f"payload map keys collide once converted to text: {name!r}")
            converted[name] = to_avro_payload_value(item)
        return converted
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_avro_payload_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):  # a pydantic v2 model
        return to_avro_payload_value(dump(mode="json"))
    if isinstance(value, (list, tuple)):
        return [to_avro_payload_value(item) for item in value]
    if isinstance(value, Set):
        items = [to_avro_payload_value(item) for item in value]
        try:
            return sorted(items)
        except TypeError as exc:
            raise TypeError("a set payload must hold mutually comparable values to be ordered") from exc
    raise TypeError(f"{type(value).__name__} has no JSON-native payload form")
