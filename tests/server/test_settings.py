"""Settings read from ``DW_*`` variables: what an operator configures reaches the server."""

from __future__ import annotations

from durable_workflow_server.settings import Settings


def test_signature_keys_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "DW_AUTH_DRIVER": "signature",
            "DW_SIGNATURE_KEY": "legacy-key",
            "DW_WORKER_SIGNATURE_KEY": "worker-key",
            "DW_OPERATOR_SIGNATURE_KEY": "operator-key",
            "DW_ADMIN_SIGNATURE_KEY": "admin-key",
        }
    )
    assert settings.auth_driver == "signature"
    assert (
        settings.signature_key,
        settings.worker_signature_key,
        settings.operator_signature_key,
        settings.admin_signature_key,
    ) == ("legacy-key", "worker-key", "operator-key", "admin-key")


def test_signature_keys_are_unset_by_default() -> None:
    settings = Settings.from_env({})
    assert settings.signature_key is None and settings.admin_signature_key is None


def test_empty_variables_count_as_unset() -> None:
    assert Settings.from_env({"DW_OPERATOR_SIGNATURE_KEY": ""}).operator_signature_key is None
