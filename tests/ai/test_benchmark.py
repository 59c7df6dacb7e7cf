"""`radview bench infer`'s timing: a fast model is timed often enough for a stable ratio."""

from __future__ import annotations

import pytest

from radview.ai.benchmark import time_model
from radview.ai.datasets import case_volume
from radview.ai.registry import find_models
from radview.bench.infer import format_infer_table
from radview.workflow.training_data import phantom_case


def test_a_fast_model_is_timed_over_more_runs_and_the_table_says_how_many():
    card = next(c for c in find_models()[0] if c.id == "cxr-nodule")
    volume = case_volume(phantom_case(card.id, 0), card.modalities[0])
    few = time_model(card, volume, rounds=1, device_setting="cpu", min_seconds=0.0)
    many = time_model(card, volume, rounds=1, device_setting="cpu", min_seconds=1.0, max_rounds=6)
    assert few["rounds"] == 1
    assert 1 < many["rounds"] <= 6  # a radiograph runs in well under a second on any machine
    assert many["end_to_end_s"] > 0 and many["forward_only_s"] > 0
    assert many["overhead_ratio"] == pytest.approx(many["end_to_end_s"] / many["forward_only_s"], abs=0.02)
    table = format_infer_table({"target_overhead": 1.25, "models": [many]})
    assert "cxr-nodule" in table and f"cxr-nodule {many['rounds']}" in table


def test_numpy_blas_is_held_to_one_thread_while_a_model_runs_and_given_back_after(monkeypatch):
    from threadpoolctl import threadpool_info

    from radview.ai import engine

    card = next(c for c in find_models()[0] if c.id == "cxr-nodule")
    volume = case_volume(phantom_case(card.id, 0), card.modalities[0])
    seen = []
    postprocess = engine.POSTPROCESSORS[card.postprocessing]

    def recording(*args):
        seen.extend(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")
        return postprocess(*args)

    monkeypatch.setitem(engine.POSTPROCESSORS, card.postprocessing, recording)
    before = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    engine.run_model(card, volume, "cpu")
    assert seen and set(seen) == {1}  # idle BLAS threads spin and take the cores from the next pass
    assert [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"] == before
