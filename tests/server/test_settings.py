"""Settings read from ``DW_*`` variables: what an operator configures reaches the server."""

from __future__ import annotations

import pytest

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


def test_namespace_tokens_bind_a_role_and_namespaces() -> None:
    settings = Settings.from_env(
        {"DW_NAMESPACE_TOKENS": "billing:operator:tok-b, billing|Reports:admin:tok:r,archive:operator:tok-b"}
    )
    by_token = {entry.token: entry for entry in settings.namespace_tokens}
    assert set(by_token) == {"tok-b", "tok:r"}  # a token is everything after the second ':'
    assert (by_token["tok-b"].role, by_token["tok-b"].namespaces) == ("operator", {"billing", "archive"})
    assert (by_token["tok:r"].role, by_token["tok:r"].namespaces) == ("admin", {"billing", "reports"})
    assert Settings.from_env({}).namespace_tokens == ()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("billing:operator", "namespace:role:token"),
        ("billing:operator:", "namespace:role:token"),
        (":operator:tok", "namespace:role:token"),
        ("bad name:operator:tok", "namespace:role:token"),
        ("billing:root:tok", "unknown role"),
        ("billing:operator:tok,reports:admin:tok", "two roles"),
    ],
)
def test_malformed_namespace_tokens_stop_the_server(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        Settings.from_env({"DW_NAMESPACE_TOKENS": text})


def test_the_history_retention_default_comes_from_the_environment() -> None:
    assert Settings.from_env({"DW_HISTORY_RETENTION_DAYS": "45"}).history_retention_days == 45
    assert Settings.from_env({}).history_retention_days == 30
