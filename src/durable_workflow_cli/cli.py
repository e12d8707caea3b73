"""The ``dw`` click group: global connection/output options and command registration."""

from __future__ import annotations

from dataclasses import dataclass

import click

from .commands import register_all

DEFAULT_SERVER_URL = "http://localhost:8080"


@dataclass(frozen=True)
class CliConfig:
    """Connection and output settings shared by every server-talking command."""

    server: str
    token: str | None
    namespace: str
    json_output: bool


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--server",
    "-s",
    envvar=["DURABLE_WORKFLOW_SERVER_URL", "DW_SERVER_URL"],
    default=DEFAULT_SERVER_URL,
    show_default=True,
    help="Server origin, without /api (env DURABLE_WORKFLOW_SERVER_URL or DW_SERVER_URL).",
)
@click.option(
    "--token",
    envvar=["DURABLE_WORKFLOW_AUTH_TOKEN", "DW_TOKEN"],
    default=None,
    help="Bearer token (env DURABLE_WORKFLOW_AUTH_TOKEN or DW_TOKEN).",
)
@click.option(
    "--namespace",
    envvar=["DURABLE_WORKFLOW_NAMESPACE", "DW_NAMESPACE"],
    default="default",
    show_default=True,
    help="Target namespace (env DURABLE_WORKFLOW_NAMESPACE or DW_NAMESPACE).",
)
@click.option("--json", "json_output", is_flag=True, help="Print one JSON document instead of text.")
@click.pass_context
def dw(ctx: click.Context, server: str, token: str | None, namespace: str, json_output: bool) -> None:
    """Durable Workflow command-line interface."""
    ctx.obj = CliConfig(
        server=server.rstrip("/"),
        token=token or None,
        namespace=namespace or "default",
        json_output=json_output,
    )


register_all(dw)
