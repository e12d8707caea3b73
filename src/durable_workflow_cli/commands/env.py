"""``dw env:*``: local connection profiles (no server traffic)."""

from __future__ import annotations

from typing import Any

import click

from .. import profiles
from ..command import Invocation, command
from ..errors import CliError, ExitCode, NextStep, invalid
from ..profiles import ConfigFile, Profile, TokenSource
from ..settings import parse_bool

LOCAL = {"server": False, "preflight": False, "namespaced": False}


def _config(inv: Invocation) -> ConfigFile:
    return profiles.load(inv.runtime.env())


def _describe(config: ConfigFile, profile: Profile, *, show_token: bool = False) -> dict[str, Any]:
    return {
        **profile.describe(show_token=show_token),
        "current": config.current_env == profile.name,
        "config_path": str(config.path),
    }


def _token_text(profile: Profile) -> str:
    if profile.token_source is None:
        return "-"
    if profile.token_source.type == "env":
        return f"env:{profile.token_source.value}"
    return "literal (redacted)"


def _show_profile(
    inv: Invocation, title: str, config: ConfigFile, profile: Profile, show_token: bool
) -> None:
    described = _describe(config, profile, show_token=show_token)
    if inv.json:
        inv.out.document(described)
        return
    inv.out.title(title)
    token = described["token_source"]
    inv.out.fields(
        [
            ("Name", profile.name),
            ("Current", described["current"]),
            ("Server", profile.server),
            ("Namespace", profile.namespace),
            ("Token", token.get("env") or token.get("value") if token else None),
            ("TLS Verify", profile.tls_verify),
            ("Output", profile.output),
            ("Config", str(config.path)),
        ]
    )


@command(
    "env:set",
    summary="Create or change a connection profile.",
    example="dw env:set prod --server=https://dw.example.com --namespace=orders --token-env=PROD_DW_TOKEN",
    **LOCAL,
)
@click.argument("name")
@click.option("--server", "server", help="Server URL ('' clears it).")
@click.option("--namespace", "namespace", help="Namespace ('' clears it).")
@click.option("--token", "token", help="Store this token in the profile file ('' clears it).")
@click.option("--token-env", "token_env", metavar="NAME", help="Read the token from this variable.")
@click.option("--tls-verify", "tls_verify", metavar="BOOL", help="Verify TLS certificates.")
@click.option("--profile-output", type=click.Choice(("table", "json", "jsonl", "")), help="Default output.")
@click.option("--make-default", is_flag=True, help="Also make it the current profile.")
def env_set(
    inv: Invocation,
    name: str,
    server: str | None,
    namespace: str | None,
    token: str | None,
    token_env: str | None,
    tls_verify: str | None,
    profile_output: str | None,
    make_default: bool,
) -> None:
    profiles.check_name(name)
    if token is not None and token_env is not None:
        raise invalid("--token and --token-env cannot be used together.")
    if token_env and not profiles.ENV_NAME.fullmatch(token_env):
        raise invalid(f"--token-env must be a variable name like PROD_DW_TOKEN (got {token_env!r}).")
    config = _config(inv)
    profile = config.envs.get(name) or Profile(name)
    changes: dict[str, Any] = {}
    if server is not None:
        changes["server"] = server.rstrip("/") or None
    if namespace is not None:
        changes["namespace"] = namespace or None
    if token is not None:
        changes["token_source"] = TokenSource("literal", token) if token else None
    if token_env is not None:
        changes["token_source"] = TokenSource("env", token_env) if token_env else None
    if tls_verify is not None:
        changes["tls_verify"] = parse_bool(tls_verify, "--tls-verify")
    if profile_output is not None:
        changes["output"] = profile_output or None
    profile = profiles.with_changes(profile, **changes)
    config.put(profile)
    if make_default:
        config.current_env = name
    config.save()
    _show_profile(inv, f"Profile {name} saved", config, profile, show_token=False)


@command("env:use", summary="Make a profile the current one.", example="dw env:use prod", **LOCAL)
@click.argument("name")
def env_use(inv: Invocation, name: str) -> None:
    config = _config(inv)
    profile = config.profile(name)
    config.current_env = name
    config.save()
    _show_profile(inv, f"Now using profile {name}", config, profile, show_token=False)


@command("env:list", summary="List the connection profiles.", example="dw env:list --json", **LOCAL)
@click.option("--show-token", is_flag=True, help="Show stored tokens instead of 'redacted'.")
def env_list(inv: Invocation, show_token: bool) -> None:
    config = _config(inv)
    envs = [_describe(config, config.envs[name], show_token=show_token) for name in sorted(config.envs)]
    if inv.json:
        inv.out.records(
            {"current_env": config.current_env, "config_path": str(config.path), "envs": envs}, "envs"
        )
        return
    inv.out.table(
        ["Current", "Name", "Server", "Namespace", "Token", "TLS Verify", "Output"],
        (
            [
                "*" if config.current_env == name else "",
                name,
                config.envs[name].server,
                config.envs[name].namespace,
                _token_text(config.envs[name]),
                config.envs[name].tls_verify,
                config.envs[name].output,
            ]
            for name in sorted(config.envs)
        ),
        empty=f"No profiles yet ({config.path}). Create one with dw env:set <name> --server=<url>.",
    )


@command(
    "env:show", summary="Show a profile (default: the current one).", example="dw env:show prod", **LOCAL
)
@click.argument("name", required=False)
@click.option("--show-token", is_flag=True, help="Show a stored token instead of 'redacted'.")
def env_show(inv: Invocation, name: str | None, show_token: bool) -> None:
    config = _config(inv)
    chosen = name or config.current_env
    if chosen is None:
        raise CliError(
            "No profile named and no current profile set.",
            ExitCode.INVALID,
            reason="no_current_profile",
            next_steps=[NextStep("input.invalid", "Choose one.", "dw env:use <name>")],
        )
    _show_profile(inv, f"Profile {chosen}", config, config.profile(chosen), show_token=show_token)


@command("env:delete", summary="Delete a profile.", example="dw env:delete staging", **LOCAL)
@click.argument("name")
def env_delete(inv: Invocation, name: str) -> None:
    config = _config(inv)
    config.profile(name)
    del config.envs[name]
    cleared = config.current_env == name
    if cleared:
        config.current_env = None
    config.save()
    body = {"name": name, "deleted": True, "cleared_current_env": cleared, "config_path": str(config.path)}
    if inv.json:
        inv.out.document(body)
    else:
        inv.out.line(
            f"Profile {name} deleted." + (" It was the current profile; none is now." if cleared else "")
        )


COMMANDS = (env_set, env_use, env_list, env_show, env_delete)
