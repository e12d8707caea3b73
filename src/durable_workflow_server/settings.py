"""Server settings: one frozen dataclass, built from arguments or ``DW_*`` environment variables.

Every duration is a parameter so tests can run with millisecond timeouts.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


ROLES = ("worker", "operator", "admin")
AUTH_DRIVERS = ("none", "token", "signature")
# Namespace names (control-plane.md §8.1.2): one rule for the request models and the settings.
NAMESPACE_NAME = re.compile(r"[a-zA-Z0-9._-]+")
NAMESPACE_NAME_MAX = 128
RETENTION_DAYS_MIN, RETENTION_DAYS_MAX = 1, 365


@dataclass(frozen=True)
class NamespaceToken:
    """A bearer token with one role, usable only in ``namespaces`` (the tenancy boundary)."""

    token: str = field(repr=False)  # a secret: never in a repr, a log line or an error message
    role: str
    namespaces: frozenset[str]


def parse_namespace_tokens(text: str) -> tuple[NamespaceToken, ...]:
    """``DW_NAMESPACE_TOKENS``: comma-separated ``namespace:role:token`` entries.

    ``namespace`` may list several names joined by ``|`` (``billing|reports:operator:tok``), and
    one token may appear in several entries (its namespaces add up). A token is everything after
    the second ``:`` (so it may hold ``:`` but not ``,``). Raises ``ValueError`` on a malformed
    entry, an unknown role, or one token given two roles, so a misconfigured server refuses to
    start rather than run open. The errors name an entry by its position, never by its text,
    which holds a secret.
    """
    roles: dict[str, str] = {}
    namespaces: dict[str, set[str]] = {}
    for position, entry in enumerate((part.strip() for part in text.split(",")), start=1):
        if not entry:
            continue
        where = f"DW_NAMESPACE_TOKENS entry {position}"
        names, sep1, rest = entry.partition(":")
        role, sep2, token = rest.partition(":")
        role, token = role.strip().lower(), token.strip()
        listed = [name.strip().lower() for name in names.split("|")]
        if not (sep1 and sep2 and token):
            raise ValueError(f"{where} is not namespace:role:token")
        if not all(NAMESPACE_NAME.fullmatch(name) and len(name) <= NAMESPACE_NAME_MAX for name in listed):
            raise ValueError(f"{where}: a namespace name is not 1-128 of letters, digits, '.', '_', '-'")
        if role not in ROLES:
            raise ValueError(f"{where}: the role is not worker, operator or admin")
        if roles.setdefault(token, role) != role:
            raise ValueError(f"{where}: its token is already given another role")
        namespaces.setdefault(token, set()).update(listed)
    return tuple(NamespaceToken(token, roles[token], frozenset(names)) for token, names in namespaces.items())


class AuthConfigError(ValueError):
    """The auth configuration cannot authenticate anyone as intended: the server must not start."""


def _unusable_token(token: str) -> bool:
    # ``Authorization: Bearer <token>`` is parsed strictly (no whitespace, no comma in the token),
    # so a configured token holding one could never be presented: refuse it at startup.
    return any(ch.isspace() or ch == "," for ch in token)


def uniform_jitter(limit: int) -> float:
    """A schedule fire's random delay: uniform in ``[0, limit]`` seconds."""
    return random.uniform(0.0, float(limit))


@dataclass(frozen=True)
class Settings:
    """Configuration of one server process."""

    database_url: str = "sqlite:///durable-workflow.sqlite3"
    # auth (see docs/protocol.md, "Request checks")
    auth_driver: str = "token"  # none | token | signature
    auth_token: str | None = None
    worker_token: str | None = None
    operator_token: str | None = None
    admin_token: str | None = None
    # HMAC-SHA256 keys of the ``signature`` driver: the caller sends the lowercase hex digest of
    # the raw request body in ``X-Signature``; the legacy single key and one key per role, like tokens
    signature_key: str | None = None
    worker_signature_key: str | None = None
    operator_signature_key: str | None = None
    admin_signature_key: str | None = None
    auth_backward_compatible: bool = True
    # tokens bound to namespaces (DW_NAMESPACE_TOKENS, see parse_namespace_tokens): a request with
    # one of them may name only its namespaces (403 otherwise); the tokens above are unbound
    namespace_tokens: tuple[NamespaceToken, ...] = ()
    default_namespace: str = "default"
    server_id: str = "durable-workflow-python"
    version: str = "2.0.0"
    # limits
    max_payload_bytes: int = 2_097_152
    max_memo_bytes: int = 262_144
    # connection limits of the socket server (app.serve, http/connections.py): a connection must
    # send a complete request head within header_read_timeout (DW_HEADER_READ_TIMEOUT) and its
    # body within body_read_timeout (DW_BODY_READ_TIMEOUT) of the head, or it is closed; an idle
    # keep-alive connection is closed after keep_alive_timeout (DW_KEEP_ALIVE_TIMEOUT). At most
    # max_pending_connections (DW_MAX_PENDING_CONNECTIONS) connections may be mid-request at
    # once: the oldest is closed to admit a new one. A request head larger than
    # max_header_bytes (DW_MAX_HEADER_BYTES) is answered 431 and the connection closed.
    header_read_timeout: float = 10.0
    body_read_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    max_pending_connections: int = 256
    max_header_bytes: int = 32_768
    # on SIGTERM/SIGINT: parked long polls are answered at once (an empty poll result), in-flight
    # requests get this long to finish before they are cancelled (DW_SHUTDOWN_TIMEOUT)
    shutdown_timeout: float = 10.0
    # time
    long_poll_timeout: float = 30.0
    # A workflow task is a short replay: 10 s like Temporal's, and our worker renews the lease
    # while a replay runs longer than a third of it. An activity lease may stay long: worker
    # liveness (below) recovers a dead worker's activities within seconds anyway.
    workflow_task_lease_seconds: float = 10.0
    activity_task_lease_seconds: float = 300.0
    worker_stale_after_seconds: float = 60.0
    # A registered worker silent (no register / heartbeat) for this long is gone: the background
    # loop releases its leases of both kinds, and its activities' pending timeouts are decided
    # as lost (DW_WORKER_LIVENESS_TIMEOUT; see docs/protocol.md). Workers are told to heartbeat
    # every third of it. None: liveness is not enforced (leases only end by expiry).
    worker_liveness_timeout_seconds: float | None = 15.0
    # registrations not heard from for this long are deleted by the background loop
    # (DW_WORKER_PRUNE_AFTER_SECONDS; None keeps them forever). A week: long enough that an
    # operator still sees yesterday's stale fleet, short enough that crashed workers go away.
    worker_prune_after_seconds: float | None = 604_800.0
    timer_loop_interval: float = 1.0
    # how often a waiting long poll re-probes the database; None: the dialect's default (10 s on
    # PostgreSQL, where LISTEN/NOTIFY wakes polls across processes and re-probing is a safety net;
    # 1 s on SQLite, where it is how other processes sharing the file find work)
    poll_reprobe_interval: float | None = None
    # a failed workflow task is redelivered after this delay
    workflow_task_retry_delay_seconds: float = 1.0
    # how long only a run's sticky worker may claim its next workflow task before any worker of
    # the queue may (DW_STICKY_SCHEDULE_TO_START_SECONDS; see engine/workflow_tasks/sticky.py)
    sticky_schedule_to_start_seconds: float = 5.0
    # how long a query (or an update's pre-accept validation) waits for a worker's answer before
    # ``504 query_worker_timeout`` (DW_QUERY_TASK_TIMEOUT), and a worker's lease on a query task
    # (DW_QUERY_TASK_LEASE_TIMEOUT; None: a third of the wait, see ``query_lease_seconds``)
    query_task_timeout: float = 30.0
    query_task_lease_seconds: float | None = None
    # how long a query-task poll is held when nothing is due (DW_QUERY_TASK_POLL_TIMEOUT). Short,
    # because SDK 0.4.84's Worker.stop() joins its query poller, which only notices the stop
    # between polls: a 30 s hold would make every 0.4.84 worker shutdown take 30 s. A query
    # that arrives still wakes a held poll at once, so only idle polls get more frequent.
    query_task_poll_timeout: float = 5.0
    # how long ``wait_for=completed`` waits for an update to close when the caller names no
    # ``wait_timeout_seconds``
    update_wait_timeout_seconds: float = 10.0
    # how long a process trusts "namespace exists" without asking the database again (other
    # processes sharing PostgreSQL may remove one); "does not exist" is never cached
    namespace_cache_seconds: float = 5.0
    # the system repair pass re-announces a ready workflow task nobody claimed for this long
    # (DW_REPAIR_REDISPATCH_AFTER_SECONDS)
    repair_redispatch_after_seconds: float = 120.0
    # ``GET /metrics`` without a credential (DW_METRICS_PUBLIC); by default it needs an operator
    # or admin bearer token, like the API
    metrics_public: bool = False
    # the retention of a namespace created without ``retention_days`` (DW_HISTORY_RETENTION_DAYS)
    history_retention_days: int = 30
    # how often the background loop prunes expired closed runs of every namespace
    # (DW_RETENTION_SWEEP_INTERVAL_SECONDS); None: only the admin retention pass prunes
    retention_sweep_interval_seconds: float | None = None
    # the sweep's retention window in seconds instead of each namespace's retention_days
    # (DW_RETENTION_WINDOW_SECONDS): soak runs and short-lived environments; None: the days
    retention_window_seconds: float | None = None
    # where the ``local`` external-storage driver keeps payloads when a namespace policy names no
    # ``config.uri`` (DW_EXTERNAL_STORAGE_DIR); None: beside the SQLite file, else the user's
    # data directory (see ``external_storage_root``). Each namespace gets its own subdirectory.
    external_storage_dir: str | None = None
    history_page_size_default: int = 500
    history_page_size_max: int = 1000
    compression_enabled: bool = True
    # uvicorn's access log, one INFO line per request (DW_ACCESS_LOG); off by default: on the
    # worker plane's hot path the line costs more than the request's own work
    access_log: bool = False
    # schedules: a fire whose time is further in the past than this (plus the schedule's jitter)
    # when the loop reaches it was missed while no server ran; only the latest such fire is taken
    # (DW_SCHEDULE_CATCHUP_WINDOW). How long a process that claimed a fire has to start its
    # workflow before another process finishes the fire instead.
    schedule_catchup_window_seconds: float = 60.0
    schedule_fire_lease_seconds: float = 300.0
    clock: Callable[[], datetime] = field(default=utc_now, compare=False, repr=False)
    # the random delay of a schedule fire (seconds, given the schedule's jitter_seconds); tests
    # inject a deterministic one
    jitter_source: Callable[[int], float] = field(default=uniform_jitter, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not RETENTION_DAYS_MIN <= self.history_retention_days <= RETENTION_DAYS_MAX:
            raise ValueError(
                f"history_retention_days (DW_HISTORY_RETENTION_DAYS) must be within "
                f"{RETENTION_DAYS_MIN}-{RETENTION_DAYS_MAX}, got {self.history_retention_days}"
            )
        for name, value in (
            ("header_read_timeout (DW_HEADER_READ_TIMEOUT)", self.header_read_timeout),
            ("body_read_timeout (DW_BODY_READ_TIMEOUT)", self.body_read_timeout),
            ("keep_alive_timeout (DW_KEEP_ALIVE_TIMEOUT)", self.keep_alive_timeout),
            ("max_pending_connections (DW_MAX_PENDING_CONNECTIONS)", self.max_pending_connections),
            ("max_header_bytes (DW_MAX_HEADER_BYTES)", self.max_header_bytes),
        ):
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if self.shutdown_timeout < 0:
            raise ValueError(
                f"shutdown_timeout (DW_SHUTDOWN_TIMEOUT) must be 0 or more, got {self.shutdown_timeout}"
            )
        if not self.namespace_tokens:
            return
        if (self.auth_driver or "token").strip().lower() != "token":
            raise ValueError(
                "DW_NAMESPACE_TOKENS are bearer tokens: they need DW_AUTH_DRIVER=token "
                f"(the {self.auth_driver!r} driver would ignore them)"
            )
        unbound = {self.auth_token, self.worker_token, self.operator_token, self.admin_token} - {None}
        if any(entry.token in unbound for entry in self.namespace_tokens):
            raise ValueError(
                "a DW_NAMESPACE_TOKENS token is also DW_AUTH_TOKEN or a role token: one credential "
                "cannot be both bound to namespaces and unbound"
            )

    @property
    def auth_driver_name(self) -> str:
        """The auth driver, normalised (``token`` when unset)."""
        return (self.auth_driver or "token").strip().lower()

    def has_credentials(self) -> bool:
        """Whether any token or signature key is configured (whatever the driver)."""
        secrets = (
            self.auth_token,
            self.worker_token,
            self.operator_token,
            self.admin_token,
            self.signature_key,
            self.worker_signature_key,
            self.operator_signature_key,
            self.admin_signature_key,
        )
        return any(secrets) or bool(self.namespace_tokens)

    def auth_problem(self) -> str | None:
        """Why this auth configuration must not serve (one line, naming no secret), or ``None``.

        An unknown driver, the token driver with no usable token, the signature driver with no
        usable key, or a token no ``Authorization`` header could carry. The server refuses to
        start on any of these (``create_app`` raises :class:`AuthConfigError`) rather than answer
        500 on every authenticated route.
        """
        driver = self.auth_driver_name
        legacy_ignored = " (DW_AUTH_BACKWARD_COMPATIBLE is off, so the legacy {} is ignored)"
        if driver == "none":
            return None
        if driver == "token":
            named = {
                "DW_AUTH_TOKEN": self.auth_token,
                "DW_WORKER_TOKEN": self.worker_token,
                "DW_OPERATOR_TOKEN": self.operator_token,
                "DW_ADMIN_TOKEN": self.admin_token,
            }
            for name, token in named.items():
                if token and _unusable_token(token):
                    return f"{name} holds whitespace or a comma, which a bearer token cannot"
            if any(_unusable_token(entry.token) for entry in self.namespace_tokens):
                return "a DW_NAMESPACE_TOKENS token holds whitespace, which a bearer token cannot"
            usable = any((self.worker_token, self.operator_token, self.admin_token, self.namespace_tokens))
            if usable or (self.auth_token and self.auth_backward_compatible):
                return None
            why = legacy_ignored.format("DW_AUTH_TOKEN") if self.auth_token else ""
            return (
                f"no auth configured{why}: set DW_AUTH_TOKEN (or DW_WORKER_TOKEN, DW_OPERATOR_TOKEN, "
                "DW_ADMIN_TOKEN, DW_NAMESPACE_TOKENS), or DW_AUTH_DRIVER=none to serve without "
                "authentication"
            )
        if driver == "signature":
            keys = (self.worker_signature_key, self.operator_signature_key, self.admin_signature_key)
            if any(keys) or (self.signature_key and self.auth_backward_compatible):
                return None
            why = legacy_ignored.format("DW_SIGNATURE_KEY") if self.signature_key else ""
            return (
                f"the signature auth driver has no key{why}: set DW_SIGNATURE_KEY (or "
                "DW_WORKER_SIGNATURE_KEY, DW_OPERATOR_SIGNATURE_KEY, DW_ADMIN_SIGNATURE_KEY)"
            )
        return f"unknown auth driver {driver!r} (DW_AUTH_DRIVER): use none, token or signature"

    def check_auth(self) -> None:
        """Raise :class:`AuthConfigError` when :meth:`auth_problem` finds one."""
        problem = self.auth_problem()
        if problem is not None:
            raise AuthConfigError(problem)

    @property
    def worker_heartbeat_interval_seconds(self) -> int:
        """The heartbeat cadence advertised to workers: a third of the shorter of the staleness
        and liveness windows, so a live worker misses two heartbeats before either notices."""
        window = self.worker_stale_after_seconds
        if self.worker_liveness_timeout_seconds is not None:
            window = min(window, self.worker_liveness_timeout_seconds)
        return max(1, int(window // 3))

    @property
    def query_lease_seconds(self) -> float:
        """A worker's lease on a query task: by default a third of the caller's wait, so the task
        of a worker that died with it is leased again (twice) before the caller gives up."""
        if self.query_task_lease_seconds is not None:
            return self.query_task_lease_seconds
        return self.query_task_timeout / 3

    def external_storage_root(self, env: Mapping[str, str] | None = None) -> Path:
        """The default directory of the ``local`` external-storage driver.

        ``external_storage_dir`` when set; otherwise ``external-payloads/`` beside a SQLite
        database file (the server's data directory), or under ``$XDG_DATA_HOME/durable-workflow``
        (``~/.local/share``) for PostgreSQL and in-memory databases.
        """
        if self.external_storage_dir:
            return Path(self.external_storage_dir).expanduser().absolute()
        scheme, _, rest = self.database_url.partition("://")
        if scheme.lower().startswith("sqlite") and rest.startswith("/"):
            path = rest[1:].split("?", 1)[0]
            if path and not path.startswith(":memory:"):
                return Path(path).expanduser().absolute().parent / "external-payloads"
        env = os.environ if env is None else env
        base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "share")
        return Path(base) / "durable-workflow" / "external-payloads"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``DW_*`` variables (legacy ``WORKFLOW_SERVER_*`` also read)."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(f"DW_{name}")
            if value is None:
                value = env.get(f"WORKFLOW_SERVER_{name}")
            return value if value not in (None, "") else None

        def number(name: str, kind: Callable[[str], int | float]) -> int | float | None:
            value = get(name)
            if value is None:
                return None
            try:
                return kind(value)
            except ValueError:
                # One clear line naming the variable, not int()'s message.
                raise ValueError(f"DW_{name} must be a number, got {value!r}") from None

        def flag(name: str, default: bool) -> bool:
            value = get(name)
            return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}

        values: dict[str, object] = {}
        for key, var in (
            ("database_url", "DATABASE_URL"),
            ("auth_driver", "AUTH_DRIVER"),
            ("auth_token", "AUTH_TOKEN"),
            ("worker_token", "WORKER_TOKEN"),
            ("operator_token", "OPERATOR_TOKEN"),
            ("admin_token", "ADMIN_TOKEN"),
            ("signature_key", "SIGNATURE_KEY"),
            ("worker_signature_key", "WORKER_SIGNATURE_KEY"),
            ("operator_signature_key", "OPERATOR_SIGNATURE_KEY"),
            ("admin_signature_key", "ADMIN_SIGNATURE_KEY"),
            ("default_namespace", "DEFAULT_NAMESPACE"),
            ("server_id", "SERVER_ID"),
            ("external_storage_dir", "EXTERNAL_STORAGE_DIR"),
        ):
            value = get(var)
            if value is not None:
                values[key] = value
        for key, var in (
            ("max_payload_bytes", "MAX_PAYLOAD_BYTES"),
            ("max_memo_bytes", "MAX_MEMO_BYTES"),
            ("max_pending_connections", "MAX_PENDING_CONNECTIONS"),
            ("max_header_bytes", "MAX_HEADER_BYTES"),
        ):
            count = number(var, int)
            if count is not None:
                values[key] = count
        poll = get("WORKER_POLL_TIMEOUT")
        if poll is not None:
            values["long_poll_timeout"] = float(poll)
        for key, var in (
            ("query_task_timeout", "QUERY_TASK_TIMEOUT"),
            ("query_task_lease_seconds", "QUERY_TASK_LEASE_TIMEOUT"),
            ("query_task_poll_timeout", "QUERY_TASK_POLL_TIMEOUT"),
            ("worker_prune_after_seconds", "WORKER_PRUNE_AFTER_SECONDS"),
            ("worker_stale_after_seconds", "WORKER_STALE_AFTER_SECONDS"),
            ("repair_redispatch_after_seconds", "REPAIR_REDISPATCH_AFTER_SECONDS"),
            ("schedule_catchup_window_seconds", "SCHEDULE_CATCHUP_WINDOW"),
            ("workflow_task_lease_seconds", "WORKFLOW_TASK_LEASE_SECONDS"),
            ("activity_task_lease_seconds", "ACTIVITY_TASK_LEASE_SECONDS"),
            ("header_read_timeout", "HEADER_READ_TIMEOUT"),
            ("body_read_timeout", "BODY_READ_TIMEOUT"),
            ("keep_alive_timeout", "KEEP_ALIVE_TIMEOUT"),
            ("shutdown_timeout", "SHUTDOWN_TIMEOUT"),
            ("worker_liveness_timeout_seconds", "WORKER_LIVENESS_TIMEOUT"),
            ("sticky_schedule_to_start_seconds", "STICKY_SCHEDULE_TO_START_SECONDS"),
            ("retention_sweep_interval_seconds", "RETENTION_SWEEP_INTERVAL_SECONDS"),
            ("retention_window_seconds", "RETENTION_WINDOW_SECONDS"),
        ):
            duration = number(var, float)
            if duration is not None:
                values[key] = duration
        tokens = get("NAMESPACE_TOKENS")
        if tokens is not None:
            values["namespace_tokens"] = parse_namespace_tokens(tokens)
        retention = get("HISTORY_RETENTION_DAYS")
        if retention is not None:
            values["history_retention_days"] = int(retention)
        values["auth_backward_compatible"] = flag("AUTH_BACKWARD_COMPATIBLE", True)
        values["compression_enabled"] = flag("COMPRESSION_ENABLED", True)
        values["metrics_public"] = flag("METRICS_PUBLIC", False)
        values["access_log"] = flag("ACCESS_LOG", False)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
