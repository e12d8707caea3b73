# The two commands of the README. Everything else lives in scripts/.
.PHONY: quickstart test bench bench-peers
quickstart:
	@EXTRAS=server,cli scripts/bootstrap.sh
	@scripts/quickstart.sh

# Static checks, then the suite (SQLite, and PostgreSQL when reachable), then interop with the
# official SDK. Each script also runs on its own; see CONTRIBUTING.md.
test:
	@scripts/check
	@scripts/test
	@scripts/interop

bench:
	@scripts/bootstrap.sh
	@.venv/bin/python benchmarks/dispatch_latency.py
	@.venv/bin/python benchmarks/throughput.py
	@.venv/bin/python benchmarks/cli_startup.py

# DBOS, Temporal, Restate and ours, side by side (installs the peers into their own cached venvs;
# see benchmarks/peers/README.md). ROUNDS=5 WORKFLOWS=500 by default.
bench-peers:
	@scripts/bootstrap.sh
	@.venv/bin/python benchmarks/peers/run.py --rounds $(or $(ROUNDS),5) --workflows $(or $(WORKFLOWS),500)
