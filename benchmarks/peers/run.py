"""Peers: the same workload on DBOS, Temporal, Restate and ours, interleaved, in one table.

Each workflow runs one activity (step) that returns its input. Every configuration starts
``--workflows`` of them after a small untimed warm-up batch; the clock starts before the first
start and stops when the last result is in the caller's hand. Configurations run in turn for
``--rounds`` rounds (the order rotated each round), each run in a fresh work directory with fresh
servers and databases, and the table shows the median and min-max workflows per second.

    .venv/bin/python benchmarks/peers/run.py [--rounds 5] [--workflows 500] [--only a,b] [--json]

The peers are installed into their own venvs under ``~/.cache/durable-workflow-bench/peers``
(pinned in ``_install.py``, reused when present, ``--reinstall`` to redo). See README.md.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _configs  # noqa: E402 - after the path above
import _install  # noqa: E402
import _servers  # noqa: E402
from _table import Outcome, one_line, render, round_orders  # noqa: E402

PEERS = ("dbos", "temporal", "restate")


def main() -> None:
    args = _parse()
    configs = _configs.select(args.only)
    _stop_everything_on_exit()
    installs = _install_peers(configs, args)
    outcomes = {config.name: Outcome(config.name, config.label) for config in configs}
    by_name = {config.name: config for config in configs}
    orders = round_orders([config.name for config in configs], args.rounds)
    for number, order in enumerate(orders, start=1):
        for name in order:
            config = by_name[name]
            outcome = outcomes[name]
            installed = installs.get(config.peer)
            if installed is not None and installed.error:
                outcome.add_failure(f"not installed: {installed.error}")
                continue
            rate_or_reason = _run_once(config, installed, args)
            if isinstance(rate_or_reason, str):
                outcome.add_failure(rate_or_reason)
                _progress(f"round {number}/{args.rounds}  {name:<18} FAILED: {one_line(rate_or_reason)}")
            else:
                outcome.add_run(args.workflows, rate_or_reason)
                rate = args.workflows / rate_or_reason
                _progress(f"round {number}/{args.rounds}  {name:<18} {rate:7.1f} wf/s")
    header = _header(args, installs)
    table = [outcomes[config.name] for config in configs]
    print()
    print(render(table, header))
    if args.json:
        print(json.dumps({"machine": _machine(), "date": _today(), "workflows": args.workflows,
                          "rounds": args.rounds, "warmup": args.warmup,
                          "installs": [installed.describe() for installed in installs.values()],
                          "configurations": [outcome.as_json() for outcome in table]}))  # fmt: skip


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds over all configurations (default 5)")
    parser.add_argument("--workflows", type=int, default=500, help="timed workflows per run (default 500)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed warm-up workflows (default 20)")
    names = ",".join(config.name for config in _configs.CONFIGS)
    parser.add_argument("--only", help=f"comma-separated configurations (default all: {names})")
    parser.add_argument("--reinstall", action="store_true", help="rebuild the peers' venvs")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where the peers' venvs live")
    parser.add_argument("--postgres", default=_configs.POSTGRES_ADMIN, help="PostgreSQL maintenance URL")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one run may take (default 600)")
    parser.add_argument("--json", action="store_true", help="also print the table as one JSON line")
    args = parser.parse_args()
    if args.rounds < 1 or args.workflows < 1 or args.warmup < 0:
        parser.error("--rounds and --workflows must be at least 1, --warmup at least 0")
    return args


def _stop_everything_on_exit() -> None:
    atexit.register(_servers.stop_all)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # Turned into KeyboardInterrupt so every `with` block stops its server on the way out.
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)


def _install_peers(configs: list[_configs.Config], args: argparse.Namespace) -> dict[str, _install.Installed]:
    cache = args.cache_dir or _install.default_cache()
    needed = [peer for peer in PEERS if any(config.peer == peer for config in configs)]
    installs: dict[str, _install.Installed] = {}
    for peer in needed:
        _progress(f"preparing {peer} in {cache / peer} ...")
        installs[peer] = _install.ensure(peer, cache, reinstall=args.reinstall)
        _progress("  " + installs[peer].describe())
    return installs


def _run_once(
    config: _configs.Config, installed: _install.Installed | None, args: argparse.Namespace
) -> float | str:
    """One run of one configuration: its elapsed seconds, or the reason it failed."""
    python = installed.python if installed is not None else Path(sys.executable)
    binaries = installed.binaries if installed is not None else {}
    workdir = Path(tempfile.mkdtemp(prefix=f"dw-peers-{config.name}-"))
    context = _configs.Context(workdir, binaries, Path(sys.executable).with_name("dw"), args.postgres)
    result: float | str | None = None  # stays None only when interrupted
    try:
        with config.prepare(context) as runner_args:
            result = _runner(python, config, runner_args, workdir, args)
    except _servers.ServerError as exc:
        result = str(exc)
    finally:
        # A failed run keeps its logs (server log, runner output) for a look; the rest leave nothing.
        if isinstance(result, str) and any(workdir.iterdir()):
            _progress(f"  the failed run's logs are kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return "interrupted" if result is None else result


def _runner(
    python: Path | None,
    config: _configs.Config,
    runner_args: list[str],
    workdir: Path,
    args: argparse.Namespace,
) -> float | str:
    command = [str(python), str(HERE / config.runner), "--workflows", str(args.workflows)]
    command += ["--warmup", str(args.warmup), *runner_args]
    out, err = workdir / "runner.out", workdir / "runner.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        child = subprocess.Popen(
            command,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            env=dict(os.environ, DW_AUTH_TOKEN=_servers.TOKEN, PYTHONUNBUFFERED="1"),
        )
        _servers.PROCESSES.append(child)
        try:
            child.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            return f"runner timed out after {args.timeout:.0f} s"
        finally:
            _servers.stop(child)
    return _parse_runner(child.returncode, out.read_text(errors="replace"), err.read_text(errors="replace"),
                         args.workflows)  # fmt: skip


def _parse_runner(returncode: int | None, stdout: str, stderr: str, workflows: int) -> float | str:
    """The elapsed seconds from the runner's JSON line, or the reason there is none."""
    if returncode != 0:
        return one_line(stderr or stdout or f"runner exited with status {returncode}")
    for line in reversed(stdout.splitlines()):
        with contextlib.suppress(ValueError):
            report = json.loads(line)
            if isinstance(report, dict) and "elapsed" in report:
                if report.get("workflows") != workflows:
                    return f"runner reported {report.get('workflows')} workflows, expected {workflows}"
                return float(report["elapsed"])
    return "runner printed no result line"


def _header(args: argparse.Namespace, installs: dict[str, _install.Installed]) -> list[str]:
    lines = [
        f"peers: {args.workflows} workflows x 1 activity each, start to last result; "
        f"{args.rounds} interleaved round(s), {args.warmup} warm-up workflows per run",
        f"machine: {_machine()}",
        f"date: {_today()}",
    ]
    lines += [f"  {installed.describe()}" for installed in installs.values()]
    return [*lines, ""]


def _machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def _today() -> str:
    return datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    started = time.perf_counter()
    try:
        main()
    except KeyboardInterrupt:
        _servers.stop_all()
        raise SystemExit(130) from None
    _progress(f"done in {time.perf_counter() - started:.0f} s")
