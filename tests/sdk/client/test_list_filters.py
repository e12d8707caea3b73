"""``list_workflows`` filters on the wire: time-window bounds and search attributes as query text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from durable_workflow.client._list_filters import moment, visibility_query


def test_moments_are_utc_rfc3339() -> None:
    assert moment(None) is None
    assert moment("2026-04-22T05:00:00Z") == "2026-04-22T05:00:00Z"  # text is sent as given
    assert moment(datetime(2026, 4, 22, 5, 0)) == "2026-04-22T05:00:00Z"  # naive is UTC
    plus_two = timezone(timedelta(hours=2))
    assert moment(datetime(2026, 4, 22, 7, 0, 0, 250000, tzinfo=plus_two)) == "2026-04-22T05:00:00.250000Z"


def test_search_attributes_become_conditions() -> None:
    assert visibility_query(None, None) is None
    assert visibility_query("order-4", None) == "order-4"
    assert visibility_query(None, {"Customer": "o'hara"}) == "Customer = 'o''hara'"
    query = visibility_query(
        "Priority >= 3",
        {"Tags": ["a", "b"], "Vip": True, "Score": 2.5, "Count": 3, "Due": datetime(2026, 1, 1)},
    )
    assert query == (
        "(Priority >= 3) AND Tags IN ('a', 'b') AND Vip = true AND Score = 2.5 AND Count = 3 "
        "AND Due = '2026-01-01T00:00:00Z'"
    )


@pytest.mark.parametrize(
    ("attributes", "error"),
    [
        ({"bad name": "x"}, ValueError),
        ({"Tags": []}, ValueError),
        ({"Score": float("nan")}, ValueError),
        ({"Blob": {"a": 1}}, TypeError),
    ],
)
def test_unrenderable_filters_raise_before_sending(
    attributes: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        visibility_query(None, attributes)
