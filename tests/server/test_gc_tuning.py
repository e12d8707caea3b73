"""``gc_tuning.tune_after_startup``: the startup heap frozen, young collections spaced out."""

from __future__ import annotations

import gc

from durable_workflow_server.gc_tuning import YOUNG_THRESHOLD, tune_after_startup


def test_tuning_freezes_the_heap_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    # Unfreeze afterwards only what this test froze: the session may have frozen its own heap.
    frozen_before = gc.get_freeze_count()
    try:
        tune_after_startup()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])
    finally:
        if frozen_before == 0:
            gc.unfreeze()
        gc.set_threshold(*before)
