# The two commands of the README. Everything else lives in scripts/.
.PHONY: quickstart test bench
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
