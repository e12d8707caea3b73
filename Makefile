# The two commands of the README. Everything else lives in scripts/.
.PHONY: quickstart test bench
quickstart:
	@EXTRAS=server,cli scripts/bootstrap.sh
	@scripts/quickstart.sh

test:
	@scripts/test.sh

bench:
	@scripts/bootstrap.sh
	@.venv/bin/python benchmarks/dispatch_latency.py
	@.venv/bin/python benchmarks/throughput.py
