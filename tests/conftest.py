"""Suite-wide hooks: the conformance tier runs only where the shared contract data exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import contract


def _reason() -> str:
    reason = contract.missing_reason() or "the contract data disappeared during collection"
    if contract.required_in_ci():
        raise pytest.Collector.CollectError(f"conformance tier cannot run under CI=true: {reason}")
    return reason


class ContractDataMissingItem(pytest.Item):
    """Reports the tier as skipped: a test that ran and skipped, so a run of only the tier is a pass."""

    def runtest(self) -> None:
        # One call site and one reason for every module, so the summary folds them into one line.
        pytest.skip(f"conformance tier skipped: {_reason()}")

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, "conformance tier"


class ContractDataMissingFile(pytest.File):
    """Stands in for one test module of the tier; the real module would read the missing data."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        _reason()  # under CI=true, a collection error
        item = ContractDataMissingItem.from_parent(self, name="contract_data_missing")
        item.add_marker(pytest.mark.conformance)  # selected and deselected with the tier
        return [item]


class ContractDataMissing(pytest.Directory):
    """Stands in for ``tests/conformance`` when the contract data is absent.

    It yields a stand-in per test module (so ``pytest tests/conformance/test_x.py`` finds its
    file too), each of which reports a skip (the summary folds them into one line) or, under
    ``CI=true``, a collection error: CI must never pass without having run the tier.
    """

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        modules = sorted(self.path.glob("test_*.py"))
        return [ContractDataMissingFile.from_parent(self, path=module) for module in modules]


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if path.resolve() == contract.CONFORMANCE_TESTS and contract.missing_reason() is not None:
        return ContractDataMissing.from_parent(parent, path=path)
    return None
