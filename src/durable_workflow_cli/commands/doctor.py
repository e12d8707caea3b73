"""``dw doctor``: where this CLI would connect, with which settings, and whether that works.

It never refuses (no preflight): it reads ``/cluster/info`` once and runs four checks, each
``pass``, ``fail``, ``warning`` or ``skip``:

* connection: the server answered;
* auth: the credential was accepted (a missing token is a warning when the server let us in);
* compatibility: the preflight rule every other command applies (cli.md §2.5), worker plane
  included, so a ``fail`` here is the exit 8 those commands would give;
* namespace: the resolved namespace exists and the credential may use it.

The JSON document (``--output=json``) is the reference's (``dw``, ``connection``, ``server``,
``warnings``, ``recommendations``) plus ``checks``. Exit 0 when the server answered, else the
exit code of the failure (3 unreachable, 4 refused credential, 7 timeout, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import compat, profiles
from ..command import Invocation, command
from ..errors import CliError, ExitCode, from_exception
from ..settings import Settings, select_profile
from ..version import build_identity
from ..views import status

if TYPE_CHECKING:
    from durable_workflow.client import Client

PASS, FAIL, WARNING, SKIP = "pass", "fail", "warning", "skip"
_CONTRACT_SOURCES = {"flag": "flag", "default": "default", "none": "default"}


@dataclass(frozen=True)
class Check:
    """One row of the doctor's table."""

    name: str
    result: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.result, "detail": self.detail}


@dataclass
class Probe:
    """What the server said: the cluster info, or the error reading it; the namespace answer."""

    info: dict[str, Any] | None = None
    error: CliError | None = None
    namespace_error: CliError | None = None


def _contract_source(source: str, *, token_env: bool = False) -> str:
    """A resolver source (``env:NAME``, ``profile:NAME``) in the auth-composition vocabulary."""
    if source.startswith("env:"):
        return "environment"
    if source.startswith("profile:"):
        return "profile_env" if token_env else "selected_profile"
    return _CONTRACT_SOURCES.get(source, source)


async def _probe(client: Client, namespace: str, server: str) -> Probe:
    probe = Probe()
    try:
        probe.info = await client.get_cluster_info(timeout=5.0)
    except Exception as exc:
        probe.error = from_exception(exc, server=server) or CliError(
            f"Unexpected error: {type(exc).__name__}: {exc}"
        )
        return probe
    try:
        await client.describe_namespace(namespace)
    except Exception as exc:
        probe.namespace_error = from_exception(exc, server=server, command="namespace:describe") or CliError(
            str(exc)
        )
    return probe


def _connection(inv: Invocation, settings: Settings) -> dict[str, Any]:
    env = inv.runtime.env()
    config = profiles.load(env)
    profile, selected_by = select_profile(inv.flags, env, config)
    token_source = settings.sources.get("token", "none")
    token_env: str | None = token_source.removeprefix("env:") if token_source.startswith("env:") else None
    if profile is not None and profile.token_source is not None and token_source.startswith("profile:"):
        token_env = profile.token_source.value if profile.token_source.type == "env" else None
    from_profile_env = token_source.startswith("profile:") and token_env is not None
    sources = settings.sources

    def entry(value: Any, source: str, *, token: bool = False) -> dict[str, Any]:
        return {
            "value": value,
            "source": source,
            "contract_source": _contract_source(source, token_env=token and from_profile_env),
        }

    return {
        "server": settings.server,
        "namespace": settings.namespace,
        "profile": {
            "name": settings.profile,
            "source": selected_by if profile is not None else None,
            "config_path": str(settings.config_path),
        },
        "token": {
            "present": settings.token is not None,
            "source": token_source,
            "env": token_env,
            "profile": settings.profile if token_source.startswith("profile:") else None,
        },
        "tls": {"verify": settings.tls_verify, "source": sources.get("tls_verify", "default")},
        "effective_config": {
            "server_url": entry(settings.server, sources.get("server", "default")),
            "namespace": entry(settings.namespace, sources.get("namespace", "default")),
            "profile": {
                "name": settings.profile,
                "source": selected_by if profile is not None else "default",
            },
            "auth": {
                **entry("redacted" if settings.token else None, token_source, token=True),
                "type": "token" if settings.token else "none",
            },
            "tls": {
                "verify": settings.tls_verify,
                "source": sources.get("tls_verify", "default"),
                "contract_source": _contract_source(sources.get("tls_verify", "default")),
            },
            "identity": {"subject": None, "roles": [], "source": "server"},
        },
    }


def _checks(settings: Settings, probe: Probe, version: str) -> list[Check]:
    if probe.info is None:
        err = probe.error
        assert err is not None
        if err.exit_code is ExitCode.AUTH:
            return [
                Check("connection", PASS, f"{settings.server} answered"),
                Check("auth", FAIL, err.message),
                Check("compatibility", SKIP, "needs an accepted credential"),
                Check("namespace", SKIP, "needs an accepted credential"),
            ]
        skipped = "needs a reachable server"
        return [
            Check("connection", FAIL, err.message),
            Check("auth", SKIP, skipped),
            Check("compatibility", SKIP, skipped),
            Check("namespace", SKIP, skipped),
        ]
    info = probe.info
    checks = [Check("connection", PASS, f"{settings.server} answered (server {info.get('version', '?')})")]
    if settings.token is None:
        checks.append(Check("auth", WARNING, "no token given; the server let this request in"))
    else:
        checks.append(Check("auth", PASS, "token accepted"))
    try:
        compat.check(info, cli_version=version, worker_plane=True)
    except CliError as err:
        checks.append(Check("compatibility", FAIL, err.message))
    else:
        worker = info.get("worker_protocol")
        worker_version = worker.get("version") if isinstance(worker, dict) else "?"
        checks.append(
            Check("compatibility", PASS, f"control plane 2, worker protocol {worker_version}, dw {version}")
        )
    ns_error = probe.namespace_error
    if ns_error is None:
        checks.append(Check("namespace", PASS, f"{settings.namespace} exists"))
    elif ns_error.exit_code is ExitCode.NOT_FOUND:
        checks.append(Check("namespace", FAIL, f"{settings.namespace} does not exist"))
    else:
        checks.append(Check("namespace", FAIL, ns_error.message))
    return checks


def _recommendations(
    settings: Settings, probe: Probe, checks: list[Check]
) -> tuple[list[str], list[dict[str, Any]]]:
    warnings: list[str] = []
    found: list[dict[str, Any]] = []

    def add(id: str, severity: str, message: str, command: str | None) -> None:
        found.append({"id": id, "severity": severity, "message": message, "command": command})
        if severity == "warning":
            warnings.append(message)

    if probe.error is not None:
        for step in probe.error.next_steps:
            add(step.id, "error", step.message, step.command)
    if settings.token is None:
        add(
            "auth.token_missing",
            "warning",
            "No token is set; servers with authentication refuse every call.",
            "dw env:set <name> --token-env=DURABLE_WORKFLOW_AUTH_TOKEN",
        )
    if not settings.tls_verify:
        add("tls.verification_disabled", "warning", "TLS certificates are not verified.", None)
    by_name = {check.name: check for check in checks}
    if by_name["compatibility"].result == FAIL:
        add("compatibility.warning", "error", by_name["compatibility"].detail, "dw server:info")
    if by_name["namespace"].result == FAIL:
        add(
            "namespace.unavailable",
            "error",
            by_name["namespace"].detail,
            f"dw namespace:create {settings.namespace}",
        )
    if not found:
        add("doctor.clean", "info", "Everything checked out.", None)
    return warnings, found


def _server_block(probe: Probe) -> dict[str, Any]:
    if probe.info is None:
        err = probe.error
        assert err is not None
        return {
            "reachable": err.exit_code is ExitCode.AUTH,
            "error": {"message": err.message, "exit_code": int(err.exit_code), "reason": err.reason},
        }
    info = probe.info
    return {
        "reachable": True,
        "version": info.get("version"),
        "server_id": info.get("server_id"),
        "default_namespace": info.get("default_namespace"),
        "auth_composition_contract": info.get("auth_composition_contract"),
        "control_plane": info.get("control_plane"),
        "worker_protocol": info.get("worker_protocol"),
        "client_compatibility": info.get("client_compatibility"),
        "cluster_info": info,
    }


@command(
    "doctor",
    summary="Check the connection, credential, compatibility and namespace.",
    example="dw doctor --output=json",
    preflight=False,
    json_flag=False,
)
def doctor(inv: Invocation) -> None:
    settings = inv.settings
    identity = build_identity(inv.runtime.env())
    probe = inv.call(lambda client: _probe(client, settings.namespace, settings.server))
    checks = _checks(settings, probe, identity.version)
    warnings, recommendations = _recommendations(settings, probe, checks)
    document = {
        "dw": identity.as_dict(),
        "connection": _connection(inv, settings),
        "server": _server_block(probe),
        "checks": [check.as_dict() for check in checks],
        "warnings": warnings,
        "recommendations": recommendations,
    }
    if inv.json:
        inv.out.document(document)
    else:
        _print(inv, settings, identity.line(), checks, recommendations)
    if probe.error is not None:
        inv.ctx.exit(int(probe.error.exit_code))


def _print(
    inv: Invocation,
    settings: Settings,
    identity: str,
    checks: list[Check],
    recommendations: list[dict[str, Any]],
) -> None:
    out = inv.out
    sources = settings.sources
    out.title(identity)
    out.fields(
        [
            ("Server", f"{settings.server} ({sources.get('server')})"),
            ("Namespace", f"{settings.namespace} ({sources.get('namespace')})"),
            ("Profile", settings.profile or "none"),
            ("Token", f"set ({sources.get('token')})" if settings.token else "none"),
            ("TLS Verify", f"{'yes' if settings.tls_verify else 'no'} ({sources.get('tls_verify')})"),
            ("Config", str(settings.config_path)),
        ]
    )
    out.line("")
    out.table(
        ["Check", "Result", "Detail"],
        ([check.name, status(check.result), check.detail] for check in checks),
        empty="",
    )
    steps = [r for r in recommendations if r["id"] != "doctor.clean"]
    if steps:
        out.line("")
        out.line("Next steps:")
        for step in steps:
            out.line(f"  - {step['message']}")
            if step["command"]:
                out.line(f"    Try: {step['command']}")
    else:
        out.line("")
        out.line("Everything checked out.")


COMMANDS = (doctor,)
