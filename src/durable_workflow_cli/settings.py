"""Connection and output settings: the one resolver of cli.md §2.3.

Every setting is taken from the first of: a flag (before or after the command name), an
environment variable, the selected profile, the built-in default. The profile is selected by
``--env`` > ``DW_ENV`` > the file's ``current_env``; naming a missing one is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import invalid
from .profiles import ConfigFile, Profile

DEFAULT_SERVER = "http://localhost:8080"
DEFAULT_NAMESPACE = "default"
SERVER_VARS = ("DURABLE_WORKFLOW_SERVER_URL",)
NAMESPACE_VARS = ("DURABLE_WORKFLOW_NAMESPACE",)
TOKEN_VARS = ("DURABLE_WORKFLOW_AUTH_TOKEN",)
TLS_VARS = ("DURABLE_WORKFLOW_TLS_VERIFY",)
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass
class Flags:
    """What the command line said, from the group's options and the command's (later wins)."""

    server: str | None = None
    namespace: str | None = None
    token: str | None = None
    tls_verify: str | None = None
    env: str | None = None
    output: str | None = None
    json: bool = False
    verbose: int = 0


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one invocation.

    Attributes:
        server: Server origin, no trailing ``/`` (``/api`` is added per request).
        namespace: Sent as ``X-Namespace``.
        token: Bearer token, or ``None``.
        tls_verify: Verify TLS certificates.
        output: ``table``, ``json`` or ``jsonl``.
        profile: The selected profile's name, or ``None``.
        config_path: The profile file consulted.
        sources: Per setting, what supplied it (``flag``, ``env:NAME``, ``profile:NAME``, ``default``).
    """

    server: str
    namespace: str
    token: str | None
    tls_verify: bool
    output: str
    profile: str | None
    config_path: Path
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def json_output(self) -> bool:
        """Whether a JSON document (or JSON lines) is printed instead of human text."""
        return self.output in ("json", "jsonl")


def parse_bool(text: str, what: str) -> bool:
    """``true false yes no on off 1 0`` (any case) as a bool; anything else exits 2."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise invalid(f"{what} must be one of true, false, yes, no, on, off, 1, 0 (got {text!r}).")


def _from_env(environ: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = environ.get(name)
        if value:  # an empty variable counts as unset
            return value, f"env:{name}"
    return None


def select_profile(
    flags: Flags, environ: Mapping[str, str], config: ConfigFile
) -> tuple[Profile | None, str]:
    """The selected profile and what selected it (``--env`` > ``DW_ENV`` > ``current_env``)."""
    if flags.env:
        return config.profile(flags.env), "flag"
    if environ.get("DW_ENV"):
        return config.profile(environ["DW_ENV"]), "env:DW_ENV"
    if config.current_env:
        # A current_env that no longer exists is as wrong as an explicit missing name.
        return config.profile(config.current_env), "config:current_env"
    return None, "none"


def resolve_output(flags: Flags, profile: Profile | None) -> tuple[str, str]:
    """``--json`` > ``--output`` > the profile's ``output`` > ``table``."""
    if flags.json:
        return "json", "flag"
    if flags.output:
        return flags.output, "flag"
    if profile is not None and profile.output:
        return profile.output, f"profile:{profile.name}"
    return "table", "default"


def resolve(flags: Flags, environ: Mapping[str, str], config: ConfigFile) -> Settings:
    """Apply flag > environment > profile > default to every setting."""
    profile, _ = select_profile(flags, environ, config)
    sources: dict[str, str] = {}
    profile_source = f"profile:{profile.name}" if profile else ""

    def pick(
        name: str, flag: str | None, env_names: tuple[str, ...], from_profile: str | None, default: str
    ) -> str:
        if flag:
            sources[name] = "flag"
            return flag
        found = _from_env(environ, env_names)
        if found:
            sources[name] = found[1]
            return found[0]
        if from_profile:
            sources[name] = profile_source
            return from_profile
        sources[name] = "default"
        return default

    server = pick("server", flags.server, SERVER_VARS, profile.server if profile else None, DEFAULT_SERVER)
    namespace = pick(
        "namespace",
        flags.namespace,
        NAMESPACE_VARS,
        profile.namespace if profile else None,
        DEFAULT_NAMESPACE,
    )
    profile_token = profile.token_source.resolve(environ) if profile and profile.token_source else None
    token = pick("token", flags.token, TOKEN_VARS, profile_token, "") or None
    if token is None:
        sources["token"] = "none"
    tls_text = pick(
        "tls_verify",
        flags.tls_verify,
        TLS_VARS,
        None if profile is None else ("true" if profile.tls_verify else "false"),
        "true",
    )
    output, sources["output"] = resolve_output(flags, profile)
    return Settings(
        server=server.rstrip("/"),
        namespace=namespace,
        token=token,
        tls_verify=parse_bool(tls_text, "--tls-verify"),
        output=output,
        profile=profile.name if profile else None,
        config_path=config.path,
        sources=sources,
    )
