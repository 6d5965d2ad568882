"""Batches evaluated by worker processes come back in input order with a bounded number handed out ahead
(evaluate.parallel._in_order): a slow batch holds up the results after it, not the whole output."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from policygen.evaluate import parallel


def _slow_first(span: tuple[int, int]) -> tuple[int, int]:
    if span[0] == 0:
        time.sleep(0.2)
    return span[0], span[0] * 10


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_results_come_in_order_with_at_most_ahead_outstanding(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "_run", _slow_first)
    ranges = [(i, -1) for i in range(40)]
    with multiprocessing.get_context("fork").Pool(3) as pool:
        handed: list[int] = []
        real_apply = pool.apply_async

        def apply_async(fn, args):  # noqa: ANN001, ANN202
            handed.append(args[0][0])
            return real_apply(fn, args)

        monkeypatch.setattr(pool, "apply_async", apply_async)
        taken = []
        for done, out in parallel._in_order(pool, ranges, 5):
            taken.append(done)
            assert out == done * 10
            assert len(handed) - len(taken) <= 5  # never more than `ahead` batches not yet taken
    assert taken == list(range(40)) and handed == list(range(40))
