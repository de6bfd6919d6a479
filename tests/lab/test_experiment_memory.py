"""An experiment whose network cannot fit in memory is refused before it trains."""

from __future__ import annotations

import time

import pytest

from actlab import lab

HUGE = [50_000, 50_000]  # one 50000 x 50000 float64 matrix alone is 20 GB


@pytest.mark.parametrize("name", ["softmax", "dead-units", "saturation"])
def test_an_experiment_too_large_for_memory_is_refused_at_once(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from actlab.lab import _checks

    monkeypatch.setattr(_checks, "memory_limit", lambda: 24 * 2**30)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"hidden \[50000, 50000\]: training needs about .* GB of memory"):
        lab.run_experiment(name, quick=True, hidden=HUGE)
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("name", ["softmax", "dead-units", "saturation"])
def test_the_default_widths_pass_the_memory_check(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from actlab.lab import _checks

    seen: list[int] = []
    monkeypatch.setattr(_checks, "check_memory", lambda what, need: seen.append(need))
    lab.run_experiment(name, quick=True, epochs=1)
    assert len(seen) == 1 and 0 < seen[0] < 2**30
