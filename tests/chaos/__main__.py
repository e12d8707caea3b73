"""``python -m tests.chaos``: the chaos test by hand.

    python -m tests.chaos                          # the CI-sized run, both backends
    python -m tests.chaos --backend postgres --seed 7
    python -m tests.chaos --long --minutes 30      # the long mode: N minutes, kills every ~20 s

It prints the seed and the report of each backend and exits 1 when any run found a violation.
PostgreSQL runs create (and drop) a database on $DW_TEST_POSTGRES_URL's server
(default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from .faults import FaultTiming
from .run import ChaosConfig, run_chaos

LONG_TIMING = FaultTiming(server_gap=(10.0, 30.0), worker_gap=(10.0, 30.0))


def configs(args: argparse.Namespace, run_root: Path) -> list[ChaosConfig]:
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    result = []
    for backend in backends:
        run_dir = run_root / backend
        if args.long:
            config = ChaosConfig(
                backend,
                args.seed,
                run_dir,
                workflows=None,
                fault_window=args.minutes * 60.0,
                in_flight=16,
                start_gap=(0.5, 3.0),
                settle_timeout=300.0,
                timing=LONG_TIMING,
            )
        else:
            config = ChaosConfig(backend, args.seed, run_dir, workflows=args.workflows)
        result.append(replace(config, keep_failed_database=args.keep_db))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--seed", type=int, default=None, help="RNG seed (random when omitted; printed)")
    parser.add_argument("--long", action="store_true", help="run for --minutes with kills throughout")
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the --long run")
    parser.add_argument("--workflows", type=int, default=24, help="workflows of the CI-sized run")
    parser.add_argument("--keep-db", action="store_true", help="keep the PostgreSQL database of a failed run")
    parser.add_argument("--run-dir", type=Path, default=None, help="where logs and execution files go")
    args = parser.parse_args(argv)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 2**31)
    run_root = args.run_dir or Path(tempfile.mkdtemp(prefix="dw-chaos-"))
    print(f"chaos: seed {args.seed}, logs in {run_root}", flush=True)
    failed = False
    for config in configs(args, run_root):
        report = asyncio.run(run_chaos(config))
        print(report.format(), flush=True)
        failed = failed or bool(report.violations)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
