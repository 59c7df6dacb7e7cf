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
    # the overhead is the median of the runs' ratios to the bare pass timed right after each
    low, high = many["overhead_ratio_range"]
    assert 0 < low <= many["overhead_ratio"] <= high
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


def test_bench_infer_times_each_model_on_a_series_of_the_study_made_for_it(demo_study, monkeypatch, tmp_path):
    """Read from the files as a reader opens them: the radiograph at its detector's size, not the
    training phantom on the model's grid; a model with no series of its kind is listed as skipped."""
    import shutil

    from radview.bench.infer import run_infer_bench

    timed = {}

    def fake_time(card, volume, rounds, device):
        timed[card.id] = volume
        return {"model": card.id, "device": "cpu", "slices": volume.shape[0], "shape": list(volume.shape),
                "end_to_end_s": 1.0, "forward_only_s": 1.0, "overhead_ratio": 1.0, "findings": 0, "rounds": rounds}

    monkeypatch.setattr("radview.ai.benchmark.time_model", fake_time)
    report = run_infer_bench(rounds=1, study=demo_study / "dicom")
    assert {r["model"] for r in report["models"]} == {"ct-nodule", "cxr-nodule", "mr-brain-tumor"}
    assert timed["cxr-nodule"].shape == (1, 2000, 2000) and timed["cxr-nodule"].voxels.dtype.kind in "ui"
    assert timed["ct-nodule"].modality == "CT" and timed["ct-nodule"].shape[0] >= 40
    assert timed["mr-brain-tumor"].modality == "MR"

    only_brain = tmp_path / "only-brain"
    shutil.copytree(demo_study / "dicom" / "brain-mr", only_brain / "brain-mr")
    timed.clear()
    report = run_infer_bench(rounds=1, study=only_brain)
    skipped = {r["model"]: r["skipped"] for r in report["models"] if "skipped" in r}
    assert set(skipped) == {"ct-nodule", "cxr-nodule"} and "input rules" in skipped["ct-nodule"]
    assert set(timed) == {"mr-brain-tumor"}
    table = format_infer_table(report)
    assert "ct-nodule        skipped" in table and str(only_brain) in table
