"""The profile file (``config.json``, cli.md §2.4): where it is, reading it, writing it safely.

A profile names a server, a namespace, a token source, TLS verification and an output default;
``dw env:use`` records the current one. Nothing here talks to a server.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .errors import CliError, ExitCode, NextStep

CONFIG_SCHEMA = "durable-workflow.cli.config"
CONFIG_VERSION = 1
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
OUTPUT_MODES = ("table", "json", "jsonl")
TokenKind = Literal["literal", "env"]


@dataclass(frozen=True)
class TokenSource:
    """Where a profile's token comes from: stored on disk (``literal``) or a variable (``env``)."""

    type: TokenKind
    value: str

    def resolve(self, environ: Mapping[str, str]) -> str | None:
        """The token itself (``None`` when the named variable is unset or empty)."""
        if self.type == "literal":
            return self.value
        return environ.get(self.value) or None

    def describe(self, *, show_token: bool) -> dict[str, Any]:
        """The JSON form: ``{type: env, env}`` or ``{type: literal, value}`` (redacted by default)."""
        if self.type == "env":
            return {"type": "env", "env": self.value}
        return {"type": "literal", "value": self.value if show_token else "redacted"}


@dataclass(frozen=True)
class Profile:
    """One named connection profile; unset fields are ``None`` (``tls_verify`` is always set)."""

    name: str
    server: str | None = None
    namespace: str | None = None
    token_source: TokenSource | None = None
    tls_verify: bool = True
    output: str | None = None

    def describe(self, *, show_token: bool = False) -> dict[str, Any]:
        """The profile description of ``env:*`` JSON output (cli.md §3.11)."""
        return {
            "name": self.name,
            "server": self.server,
            "namespace": self.namespace,
            "tls_verify": self.tls_verify,
            "output": self.output,
            "token_source": self.token_source.describe(show_token=show_token) if self.token_source else None,
        }


@dataclass
class ConfigFile:
    """The whole profile file as read (an absent file is an empty one)."""

    path: Path
    current_env: str | None = None
    envs: dict[str, Profile] = field(default_factory=dict)

    def profile(self, name: str) -> Profile:
        """The named profile; an unknown name is an error listing the known ones (exit 2)."""
        found = self.envs.get(name)
        if found is None:
            known = ", ".join(sorted(self.envs)) or "none"
            raise CliError(
                f"Unknown environment profile {name!r} (known: {known}).",
                ExitCode.INVALID,
                reason="unknown_profile",
                next_steps=[NextStep("input.invalid", "List the profiles.", "dw env:list")],
            )
        return found

    def put(self, profile: Profile) -> None:
        self.envs[profile.name] = profile

    def save(self) -> None:
        """Write the file: directory 0700, file 0600, through a temporary file and a rename."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        document: dict[str, Any] = {"schema": CONFIG_SCHEMA, "version": CONFIG_VERSION}
        document["current_env"] = self.current_env
        document["envs"] = {name: _profile_document(self.envs[name]) for name in sorted(self.envs)}
        import tempfile  # lazily: only writers of the file pay for it

        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".config-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2, ensure_ascii=False)
                handle.write("\n")
            os.chmod(temp, 0o600)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def config_path(environ: Mapping[str, str]) -> Path:
    """``$DW_CONFIG_HOME/config.json``, else ``$XDG_CONFIG_HOME/dw``, ``%APPDATA%\\dw``, ``~/.config/dw``."""
    if environ.get("DW_CONFIG_HOME"):
        return Path(environ["DW_CONFIG_HOME"]) / "config.json"
    if environ.get("XDG_CONFIG_HOME"):
        return Path(environ["XDG_CONFIG_HOME"]) / "dw" / "config.json"
    if os.name == "nt" and environ.get("APPDATA"):
        return Path(environ["APPDATA"]) / "dw" / "config.json"
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / ".config" / "dw" / "config.json"


def load(environ: Mapping[str, str]) -> ConfigFile:
    """Read the profile file; a missing file is empty, an unreadable one an error (exit 2)."""
    path = config_path(environ)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigFile(path)
    except OSError as exc:
        raise _bad_file(path, exc.strerror or str(exc)) from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _bad_file(path, f"not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != CONFIG_SCHEMA:
        raise _bad_file(path, f"not a {CONFIG_SCHEMA} document")
    envs: dict[str, Profile] = {}
    raw_envs = data.get("envs")
    for name, raw in (raw_envs if isinstance(raw_envs, dict) else {}).items():
        if isinstance(raw, dict):
            envs[str(name)] = _profile(str(name), raw)
    current = data.get("current_env")
    return ConfigFile(path, current if isinstance(current, str) and current else None, envs)


def check_name(name: str) -> str:
    """A valid profile name, or an error (exit 2)."""
    if not PROFILE_NAME.fullmatch(name):
        raise CliError(
            f"Invalid profile name {name!r}: use letters, digits, '.', '_' and '-', starting with a "
            "letter or digit.",
            ExitCode.INVALID,
            reason="invalid_profile_name",
        )
    return name


def with_changes(profile: Profile, **changes: Any) -> Profile:
    """``profile`` with the given fields replaced."""
    return replace(profile, **changes)


def _bad_file(path: Path, why: str) -> CliError:
    return CliError(
        f"Cannot read the profile file {path}: {why}.",
        ExitCode.INVALID,
        reason="invalid_config",
        next_steps=[NextStep("input.invalid", "Fix or remove the file, then set profiles again.")],
    )


def _profile(name: str, raw: Mapping[str, Any]) -> Profile:
    source = raw.get("token_source")
    token: TokenSource | None = None
    if isinstance(source, dict) and source.get("type") in ("literal", "env"):
        token = TokenSource(source["type"], str(source.get("value") or ""))
    output = raw.get("output")
    return Profile(
        name=name,
        server=raw.get("server") if isinstance(raw.get("server"), str) else None,
        namespace=raw.get("namespace") if isinstance(raw.get("namespace"), str) else None,
        token_source=token,
        tls_verify=raw.get("tls_verify") is not False,
        output=output if output in OUTPUT_MODES else None,
    )


def _profile_document(profile: Profile) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if profile.server is not None:
        document["server"] = profile.server
    if profile.namespace is not None:
        document["namespace"] = profile.namespace
    if profile.token_source is not None:
        document["token_source"] = {"type": profile.token_source.type, "value": profile.token_source.value}
    document["tls_verify"] = profile.tls_verify
    if profile.output is not None:
        document["output"] = profile.output
    return document
