"""Settings read from ``DW_*`` variables: what an operator configures reaches the server."""

from __future__ import annotations

import re
from pathlib import Path

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
        ("s3cr3t-token-value", "entry 1 is not namespace:role:token"),
        ("billing:s3cr3t", "entry 1 is not namespace:role:token"),
        ("billing:operator:", "entry 1 is not namespace:role:token"),
        ("ok:operator:fine, :operator:s3cr3t", "entry 2: a namespace name"),
        ("bad name:operator:s3cr3t", "entry 1: a namespace name"),
        (f"{'n' * 129}:operator:s3cr3t", "entry 1: a namespace name"),
        ("billing:s3cr3t:more", "entry 1: the role is not worker, operator or admin"),
        ("billing:operator:s3cr3t,reports:admin:s3cr3t", "entry 2: its token is already given another role"),
    ],
)
def test_malformed_namespace_tokens_stop_the_server_without_showing_the_secret(
    text: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint) as refused:
        Settings.from_env({"DW_NAMESPACE_TOKENS": text})
    assert "s3cr3t" not in str(refused.value)


def test_a_namespace_token_never_shows_in_a_repr() -> None:
    settings = Settings.from_env({"DW_NAMESPACE_TOKENS": "billing:operator:s3cr3t"})
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in repr(settings.namespace_tokens)


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"DW_AUTH_DRIVER": "signature", "DW_SIGNATURE_KEY": "k"}, "need DW_AUTH_DRIVER=token"),
        ({"DW_AUTH_DRIVER": "none"}, "need DW_AUTH_DRIVER=token"),
        ({"DW_ADMIN_TOKEN": "s3cr3t"}, "both bound to namespaces and unbound"),
        ({"DW_AUTH_TOKEN": "s3cr3t"}, "both bound to namespaces and unbound"),
    ],
)
def test_namespace_tokens_that_could_not_work_as_configured_stop_the_server(
    env: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint) as refused:
        Settings.from_env({**env, "DW_NAMESPACE_TOKENS": "billing:operator:s3cr3t"})
    assert "s3cr3t" not in str(refused.value)


def test_the_history_retention_default_comes_from_the_environment() -> None:
    assert Settings.from_env({"DW_HISTORY_RETENTION_DAYS": "45"}).history_retention_days == 45
    assert Settings.from_env({}).history_retention_days == 30
    for days in ("0", "-5", "366"):
        with pytest.raises(ValueError, match="1-365"):
            Settings.from_env({"DW_HISTORY_RETENTION_DAYS": days})
    with pytest.raises(ValueError, match="1-365"):
        Settings(history_retention_days=0)


def test_the_default_external_storage_directory(tmp_path: Path) -> None:
    # Set: used as given (DW_EXTERNAL_STORAGE_DIR).
    chosen = Settings.from_env({"DW_EXTERNAL_STORAGE_DIR": str(tmp_path / "payloads")})
    assert chosen.external_storage_root() == tmp_path / "payloads"
    # Beside a SQLite file: the server's data directory.
    sqlite = Settings(database_url=f"sqlite:///{tmp_path / 'data' / 'dw.sqlite3'}")
    assert sqlite.external_storage_root() == tmp_path / "data" / "external-payloads"
    # PostgreSQL or an in-memory database: the user's data directory.
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    expected = tmp_path / "xdg" / "durable-workflow" / "external-payloads"
    assert Settings(database_url="postgresql://h/db").external_storage_root(env) == expected
    assert Settings(database_url="sqlite:///:memory:").external_storage_root(env) == expected
    assert Settings(database_url="sqlite://").external_storage_root({"HOME": str(tmp_path)}) == (
        tmp_path / ".local" / "share" / "durable-workflow" / "external-payloads"
    )


def test_lease_lengths_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"DW_WORKFLOW_TASK_LEASE_SECONDS": "7.5", "DW_ACTIVITY_TASK_LEASE_SECONDS": "42"}
    )
    assert (settings.workflow_task_lease_seconds, settings.activity_task_lease_seconds) == (7.5, 42.0)


def test_connection_limits_and_shutdown_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "DW_HEADER_READ_TIMEOUT": "2.5",
            "DW_BODY_READ_TIMEOUT": "7",
            "DW_KEEP_ALIVE_TIMEOUT": "1.5",
            "DW_MAX_PENDING_CONNECTIONS": "12",
            "DW_MAX_HEADER_BYTES": "4096",
            "DW_SHUTDOWN_TIMEOUT": "3",
        }
    )
    assert (settings.header_read_timeout, settings.body_read_timeout, settings.keep_alive_timeout) == (
        2.5,
        7,
        1.5,
    )
    assert (settings.max_pending_connections, settings.max_header_bytes, settings.shutdown_timeout) == (
        12,
        4096,
        3,
    )
    defaults = Settings.from_env({})
    assert (defaults.header_read_timeout, defaults.body_read_timeout, defaults.keep_alive_timeout) == (
        10,
        30,
        5,
    )
    assert (defaults.max_pending_connections, defaults.max_header_bytes, defaults.shutdown_timeout) == (
        256,
        32768,
        10,
    )


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DW_HEADER_READ_TIMEOUT": "0"}, "header_read_timeout (DW_HEADER_READ_TIMEOUT) must be positive"),
        ({"DW_MAX_PENDING_CONNECTIONS": "-1"}, "DW_MAX_PENDING_CONNECTIONS) must be positive"),
        ({"DW_MAX_HEADER_BYTES": "lots"}, "DW_MAX_HEADER_BYTES must be a number, got 'lots'"),
        ({"DW_SHUTDOWN_TIMEOUT": "-2"}, "must be 0 or more"),
    ],
)
def test_a_bad_limit_is_refused_with_its_variable_named(env: dict[str, str], words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"auth_driver": "none"}, None),
        ({"auth_token": "t"}, None),
        ({"worker_token": "w"}, None),
        ({"auth_driver": " Token ", "admin_token": "a"}, None),  # the driver is normalised
        ({"auth_driver": "signature", "operator_signature_key": "k"}, None),
        ({}, "no auth configured"),
        ({"auth_token": "t", "auth_backward_compatible": False}, "DW_AUTH_BACKWARD_COMPATIBLE is off"),
        ({"auth_driver": "signature", "auth_token": "t"}, "the signature auth driver has no key"),
        ({"auth_driver": "oauth"}, "unknown auth driver 'oauth'"),
        ({"admin_token": "a b"}, "DW_ADMIN_TOKEN holds whitespace or a comma"),
    ],
)
def test_auth_problem_names_what_cannot_serve(values: dict[str, object], problem: str | None) -> None:
    found = Settings(**values).auth_problem()  # type: ignore[arg-type]
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
