"""The server's storage drivers, built from a namespace policy (control-plane.md §8.1.5).

The drivers themselves are the protocol package's (``durable_workflow.protocol.payload_storage``,
shared with the SDK); this module decides which one a policy means and configures it:

``local``
    ``LocalFilesystemExternalStorage`` rooted at ``config.uri`` (a ``file://`` URI or a path) or,
    without one, at ``<Settings.external_storage_root()>/<namespace>``: one directory per
    namespace, so namespaces never share objects by default.
``s3``
    ``S3ExternalStorage`` over a boto3 client (``pip install 'durable-workflow[s3]'``), in
    ``config.bucket`` under ``config.prefix``. ``config.disk`` is required and names a
    *server-side credential binding*: the variables ``DW_STORAGE_DISK_<DISK>_ACCESS_KEY_ID``,
    ``_SECRET_ACCESS_KEY``, ``_SESSION_TOKEN``, ``_ENDPOINT`` and ``_REGION`` (``<DISK>`` is the
    disk name upper-cased, other characters than letters and digits as ``_``). A disk with no
    such variables uses boto3's own credential chain (``AWS_*`` variables, the profile
    ``config.auth_profile``, an instance role). ``config.endpoint`` and ``config.region`` win
    over the binding's. Credentials therefore never travel in the policy, only the disk's name.
``gcs``, ``azure``
    Not served by this server: the policy can be stored, but offloading keeps such a
    namespace's payloads inline and the storage test answers ``storage_driver_unavailable``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from durable_workflow.protocol.payload_storage import (
    ExternalStorageDriver,
    LocalFilesystemExternalStorage,
    S3ExternalStorage,
)

from ...settings import Settings
from .policy import StoragePolicy
from .redaction import redact

ALL_DRIVERS = ("local", "s3", "gcs", "azure")
SERVED_DRIVERS = ("local", "s3")
DISK_VARIABLES = ("ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN", "ENDPOINT", "REGION")


class DriverUnavailable(Exception):
    """The policy names a driver this server cannot build (missing config, package or support)."""


def build_driver(
    policy: StoragePolicy, namespace: str, settings: Settings, env: Mapping[str, str] | None = None
) -> ExternalStorageDriver:
    """The driver ``policy`` means for ``namespace``; :class:`DriverUnavailable` when none can be built."""
    if policy.driver == "local":
        return _local(policy, namespace, settings)
    if policy.driver == "s3":
        return _s3(policy, os.environ if env is None else env)
    raise DriverUnavailable(f"The {policy.driver} external storage driver is not available on this server.")


def _local(policy: StoragePolicy, namespace: str, settings: Settings) -> LocalFilesystemExternalStorage:
    uri = policy.text("uri")
    if uri is None:
        # "." and ".." are valid namespace names but not directory names of their own.
        directory = namespace if namespace.strip(".") else f"_{namespace}"
        return LocalFilesystemExternalStorage(settings.external_storage_root() / directory)
    if "://" in uri and not uri.startswith("file:"):
        raise DriverUnavailable("The local driver's config.uri must be a file:// URI or a path.")
    try:
        return LocalFilesystemExternalStorage(uri if uri.startswith("file:") else Path(uri))
    except ValueError as exc:
        raise DriverUnavailable(f"The local driver's config.uri is not usable: {exc}") from exc


def disk_variables(disk: str, env: Mapping[str, str]) -> dict[str, str]:
    """The binding of ``disk``: its ``DW_STORAGE_DISK_<DISK>_*`` variables that are set."""
    stem = "DW_STORAGE_DISK_" + re.sub(r"[^A-Z0-9]", "_", disk.upper()) + "_"
    return {name: env[stem + name] for name in DISK_VARIABLES if env.get(stem + name)}


def _s3(policy: StoragePolicy, env: Mapping[str, str]) -> S3ExternalStorage:
    disk, bucket = policy.text("disk"), policy.text("bucket")
    if disk is None or bucket is None:
        raise DriverUnavailable("The s3 driver needs config.disk and config.bucket.")
    try:
        import boto3
    except ImportError as exc:
        raise DriverUnavailable(
            "The s3 driver needs boto3 on the server: pip install 'durable-workflow[s3]'."
        ) from exc
    binding = disk_variables(disk, env)
    redact(*(binding[name] for name in ("SECRET_ACCESS_KEY", "SESSION_TOKEN") if name in binding))
    session_args: dict[str, Any] = {}
    if "ACCESS_KEY_ID" in binding and "SECRET_ACCESS_KEY" in binding:
        session_args["aws_access_key_id"] = binding["ACCESS_KEY_ID"]
        session_args["aws_secret_access_key"] = binding["SECRET_ACCESS_KEY"]
        if "SESSION_TOKEN" in binding:
            session_args["aws_session_token"] = binding["SESSION_TOKEN"]
    elif policy.text("auth_profile") is not None:
        session_args["profile_name"] = policy.text("auth_profile")
    try:
        session = boto3.session.Session(**session_args)
        client = session.client(
            "s3",
            endpoint_url=policy.text("endpoint") or binding.get("ENDPOINT"),
            region_name=policy.text("region") or binding.get("REGION"),
        )
        return S3ExternalStorage(client, bucket=bucket, prefix=policy.text("prefix") or "")
    except ValueError as exc:
        raise DriverUnavailable(f"The s3 driver's config is not usable: {exc}") from exc
    except Exception as exc:  # botocore's ProfileNotFound, NoRegionError, ... (no botocore import here)
        raise DriverUnavailable(f"The s3 driver could not be configured: {exc}") from exc
