"""`radview bench infer`'s timing, and the BLAS limit that keeps a run's numpy work off the
network's cores."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info

from radview.ai import engine
from radview.ai.benchmark import time_model
from radview.ai.datasets import case_volume
from radview.ai.registry import find_models
from radview.bench.infer import format_infer_table
from radview.workflow.training_data import phantom_case


@pytest.fixture(scope="module")
def radiograph():
    card = next(c for c in find_models()[0] if c.id == "cxr-nodule")
    return card, case_volume(phantom_case(card.id, 0), card.modalities[0])


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_a_fast_model_is_timed_over_more_runs_and_the_table_says_how_many(radiograph):
    card, volume = radiograph
    few = time_model(card, volume, rounds=1, device_setting="cpu", min_seconds=0.0)
    # room for about 5 runs as fast as the first, however loaded the machine is
    many = time_model(card, volume, rounds=1, device_setting="cpu", min_seconds=5 * few["end_to_end_s"], max_rounds=40)
    assert few["rounds"] == 1
    assert 1 < many["rounds"] <= 40
    assert many["end_to_end_s"] > 0 and many["forward_only_s"] > 0
    # the ratio is of the unrounded medians: within rounding of the printed seconds
    assert many["overhead_ratio"] == pytest.approx(many["end_to_end_s"] / many["forward_only_s"], rel=0.1)
    table = format_infer_table({"target_overhead": 1.25, "models": [many]})
    assert "cxr-nodule" in table and f"cxr-nodule {many['rounds']}" in table


def test_numpy_blas_is_held_to_one_thread_while_a_model_runs_and_given_back_after(radiograph, monkeypatch):
    card, volume = radiograph
    seen: list[int] = []
    postprocess = engine.POSTPROCESSORS[card.postprocessing]

    def recording(*args):
        seen.extend(_blas_threads())
        return postprocess(*args)

    monkeypatch.setitem(engine.POSTPROCESSORS, card.postprocessing, recording)
    before = _blas_threads()
    engine.run_model(card, volume, "cpu")
    assert seen and set(seen) == {1}  # idle BLAS threads spin and take the cores from the next pass
    assert _blas_threads() == before


def test_overlapping_runs_give_the_blas_threads_back_only_when_the_last_ends():
    from radview.ai.blas_threads import one_blas_thread

    before = _blas_threads()
    first, second = one_blas_thread(), one_blas_thread()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first run ends while the second still runs
    assert set(_blas_threads()) == {1}
    second.__exit__(None, None, None)
    assert _blas_threads() == before
