"""The ct-nodule false-positive reduction: learned from candidates, seeded, stored as safetensors,
its threshold chosen for a false-positive rate, and a package without it is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from radview.ai.card import CardError
from radview.ai.nodule_candidates import FEATURES
from radview.ai.nodule_fp import CandidateScorer, fit_scorer
from radview.ai.nodule_fp_training import operating_threshold, out_of_fold_scores
from radview.ai.registry import check_package

SHIPPED = Path(__file__).resolve().parents[2] / "models"


def _candidates(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodules are thick and round, vessels thin and long: two features tell them apart, the rest is noise."""
    is_nodule = rng.random(count) < 0.2
    features = rng.normal(size=(count, len(FEATURES))).astype(np.float32)
    features[:, FEATURES.index("thickness_mm")] += np.where(is_nodule, 3.0, 0.0)
    features[:, FEATURES.index("elongation")] -= np.where(is_nodule, 2.0, 0.0)
    return features, is_nodule


def test_the_scorer_ranks_nodules_over_vessels_and_is_the_same_for_one_seed(tmp_path):
    rng = np.random.default_rng(1)
    features, is_nodule = _candidates(rng, 400)
    tensors = fit_scorer(features, is_nodule, seed=3, epochs=120)
    again = fit_scorer(features, is_nodule, seed=3, epochs=120)
    assert all(np.array_equal(tensors[k], again[k]) for k in tensors), "one recipe, one scorer"
    save_file(tensors, str(tmp_path / "scorer.safetensors"))
    scorer = CandidateScorer.load(tmp_path / "scorer.safetensors")
    test_features, test_is_nodule = _candidates(np.random.default_rng(2), 300)
    scores = scorer.score(test_features)
    assert scores.shape == (300,) and ((scores >= 0) & (scores <= 1)).all()
    # the share of (nodule, non-nodule) pairs ranked right: the AUC
    pairs = scores[test_is_nodule][:, None] > scores[~test_is_nodule][None, :]
    assert pairs.mean() > 0.95
    assert scorer.score(np.zeros((0, len(FEATURES)))).shape == (0,)


def test_the_scorer_needs_both_kinds_and_the_features_it_was_made_for():
    features, _ = _candidates(np.random.default_rng(0), 50)
    with pytest.raises(ValueError, match="nodules and non-nodules"):
        fit_scorer(features, np.zeros(50, bool), epochs=5)
    tensors = fit_scorer(features, np.arange(50) % 5 == 0, epochs=5)
    tensors["feature_mean"] = tensors["feature_mean"][:-1]
    with pytest.raises(ValueError, match="features"):
        CandidateScorer(tensors)


def test_the_threshold_keeps_the_false_positives_at_the_rate_asked_for():
    scores = [np.array([0.9, 0.8, 0.3, 0.2]), np.array([0.95, 0.7, 0.6]), np.array([0.4])]
    is_nodule = [np.array([True, False, False, True]), np.array([False, True, False]), np.array([False])]
    # false positives by score: 0.95, 0.8, 0.6, 0.4, 0.3; one per scan over 3 scans allows three
    threshold = operating_threshold(scores, is_nodule, 1.0)
    kept_false = sum(int(((s >= threshold) & ~n).sum()) for s, n in zip(scores, is_nodule))
    assert kept_false == 3 and 0.4 < threshold <= 0.6 + 1e-6
    assert operating_threshold(scores, is_nodule, 1 / 3) > 0.8
    few = operating_threshold([np.array([0.9, 0.2])], [np.array([True, False])], 4.0)
    assert few <= 0.2, "with fewer false positives than allowed, every candidate is kept"


def test_every_scan_is_scored_by_a_scorer_that_never_saw_it():
    rng = np.random.default_rng(4)
    scans = [_candidates(rng, 60) for _ in range(9)]
    # one scan with its labels the other way round: a scorer that had seen it would have learned
    # some of its pattern; one fitted on the other scans ranks its "nodules" last
    features, is_nodule = scans[0]
    scans[0] = (features, ~is_nodule)
    scores = out_of_fold_scores(scans, seed=0, folds=3, epochs=80)
    assert [len(s) for s in scores] == [60] * 9
    assert all(np.array_equal(a, b) for a, b in zip(scores, out_of_fold_scores(scans, seed=0, folds=3, epochs=80)))
    inverted = scores[0][scans[0][1]][:, None] > scores[0][~scans[0][1]][None, :]
    assert inverted.mean() < 0.1
    rest = [(s[n][:, None] > s[~n][None, :]).mean() for s, (_, n) in zip(scores[1:], scans[1:])]
    assert np.mean(rest) > 0.9, "the other scans are ranked by what their folds learned"


def test_a_nodule_package_without_its_false_positive_reduction_is_refused(tmp_path):
    folder = tmp_path / "ct-nodule"
    shutil.copytree(SHIPPED / "ct-nodule", folder)
    card = json.loads((folder / "model.json").read_text())
    scorer_file = folder / card["false_positive_reduction"]["file"]
    scorer_file.write_bytes(scorer_file.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(CardError, match="checksum mismatch for the false-positive reduction"):
        check_package(folder)
    del card["false_positive_reduction"]
    (folder / "model.json").write_text(json.dumps(card))
    with pytest.raises(CardError, match="--fp-reduction-only"):
        check_package(folder)
