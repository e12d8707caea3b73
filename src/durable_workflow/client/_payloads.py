"""The client's payloads: encoding what it sends (inline envelopes, external storage), the local
size policy, and decoding what it gets back. A mixin of :class:`~._base.BaseClient`."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import PayloadError, PayloadSizeWarning, PayloadTooLarge
from ..protocol import codec
from ..protocol.payload_storage import ExternalStorageDriver, store_external_blob
from ..protocol.wire import Envelope

__all__ = ["Arguments", "PayloadsMixin"]

logger = logging.getLogger("durable_workflow.client")

# Workflow, signal, query and update arguments: a list of positional values (a mapping is sent
# as it is only with ``plain_json_payloads``, the CLI's object form).
Arguments = Sequence[Any] | Mapping[str, Any]


class PayloadsMixin:
    """Payload encoding and checks over the client's settings (set by ``BaseClient.__init__``)."""

    payload_size_limit_bytes: int
    payload_size_warning_threshold_percent: int
    payload_size_warnings: bool
    external_storage: ExternalStorageDriver | None
    external_storage_threshold_bytes: int | None
    plain_json_payloads: bool

    async def _payload(self, value: Any, *, what: str) -> Any:
        """Encode a caller payload: start/signal/query/update input, an activity's result.

        The value itself with ``plain_json_payloads``. Otherwise an inline envelope
        (:meth:`_envelope`'s checks) unless a driver is configured and the blob is larger than
        ``external_storage_threshold_bytes``: then it is uploaded (on a worker thread, the
        drivers block) and its ``{codec, external_storage}`` reference is what is sent.
        """
        if self.plain_json_payloads:
            return value
        env = self._encoded(value, what=what)
        driver, threshold = self.external_storage, self.external_storage_threshold_bytes
        if driver is not None and threshold is not None and len(env["blob"]) > threshold:
            return await asyncio.to_thread(store_external_blob, driver, env["blob"], codec=env["codec"])
        return self._checked(env, what=what)

    async def _externalized(self, command: Mapping[str, Any]) -> dict[str, Any]:
        """A worker command with each inline envelope over the threshold stored externally.

        The commands a replay produced carry their payloads inline (``schedule_activity``
        arguments, ``complete_workflow`` result, ...); with a driver, the large ones go out as
        references, as the worker plane accepts, so a workflow can hand on a value larger than a
        request may be.
        """
        body = dict(command)
        driver, threshold = self.external_storage, self.external_storage_threshold_bytes
        if driver is None or threshold is None:
            return body
        for key, value in command.items():
            blob = value.get("blob") if codec.is_envelope(value) else None
            if isinstance(blob, str) and len(blob) > threshold:
                body[key] = await asyncio.to_thread(
                    store_external_blob, driver, blob, codec=str(value["codec"])
                )
        return body

    def _arguments(self, args: Arguments | None) -> Any:
        """The argument list to send (a mapping passes through with ``plain_json_payloads``)."""
        if args is None:
            return []
        if isinstance(args, Mapping):
            if self.plain_json_payloads:
                return dict(args)
            raise TypeError("args must be a list of positional arguments")
        if isinstance(args, (str, bytes)):
            raise TypeError("args must be a list of positional arguments")
        return list(args)

    def _caller_value(self, value: Any, *, what: str) -> Any:
        """A caller payload sent inline: the plain value with ``plain_json_payloads``, else an envelope."""
        return value if self.plain_json_payloads else self._envelope(value, what=what)

    @staticmethod
    def _encoded(value: Any, *, what: str) -> Envelope:
        try:
            return codec.envelope(value)
        except codec.PayloadCodecError as exc:
            raise PayloadError(f"cannot encode {what}: {exc}", exc.reason) from exc

    def _envelope(self, value: Any, *, what: str) -> Envelope:
        """Encode ``value`` as an inline Avro envelope, enforcing the local payload-size policy.

        Over the limit raises :class:`PayloadTooLarge` (nothing is sent); over the warning
        threshold emits :class:`PayloadSizeWarning` and logs it.
        """
        return self._checked(self._encoded(value, what=what), what=what)

    def _checked(self, env: Envelope, *, what: str) -> Envelope:
        size = len(env["blob"])
        limit = self.payload_size_limit_bytes
        if size > limit:
            raise PayloadTooLarge(
                f"{what} is {size} bytes encoded, over the {limit}-byte payload limit",
                size_bytes=size,
                limit_bytes=limit,
            )
        threshold = limit * self.payload_size_warning_threshold_percent / 100
        if self.payload_size_warnings and size >= threshold:
            text = f"{what} is {size} bytes encoded, {size * 100 // limit}% of the {limit}-byte payload limit"
            logger.warning(text)
            warnings.warn(text, PayloadSizeWarning, stacklevel=3)
        return env

    @staticmethod
    def _decode(raw: Any, codec_name: str | None, *, what: str) -> Any:
        try:
            return codec.decode_payload(raw, codec_name)
        except codec.PayloadCodecError as exc:
            raise PayloadError(f"cannot decode {what}: {exc}", exc.reason) from exc
