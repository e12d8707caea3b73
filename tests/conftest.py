"""Suite-wide hooks: the conformance tier runs only where the shared contract data exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import contract


class ContractDataMissing(pytest.Directory):
    """Stands in for ``tests/conformance`` when the contract data is absent.

    Collecting it reports the whole tier as one skip (one line in the summary), or, under
    ``CI=true``, as a collection error: CI must never pass without having run the tier.
    """

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        reason = contract.missing_reason() or "the contract data disappeared during collection"
        if contract.required_in_ci():
            raise self.CollectError(f"conformance tier cannot run under CI=true: {reason}")
        pytest.skip(f"conformance tier skipped: {reason}")


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if path.resolve() == contract.CONFORMANCE_TESTS and contract.missing_reason() is not None:
        return ContractDataMissing.from_parent(parent, path=path)
    return None
