"""Whole-image percentiles by histogram: numpy's numbers, bit for bit, for scanner pixel types."""

from __future__ import annotations

import numpy as np
import pytest

from radview.core.percentiles import IntegerHistogram, percentiles

QS = [0, 0.5, 1, 5, 25, 50, 62.5, 95, 99, 99.5, 100]


@pytest.mark.parametrize("dtype, low, high", [(np.uint16, 0, 4096), (np.int16, -1024, 3071), (np.uint8, 0, 256),
                                               (np.int32, -5, 6), (np.uint16, 700, 701)])
def test_the_same_numbers_as_numpy(dtype, low, high):
    rng = np.random.default_rng(int(high))
    for size in (1 << 14, 100_003, 36 * 64 * 64):
        values = rng.integers(low, high, size=size).astype(dtype).reshape(-1, 1)
        assert np.array_equal(percentiles(values, QS), np.percentile(values, QS))
        assert percentiles(values, 5) == np.percentile(values, 5) and isinstance(percentiles(values, 5), float)


def test_an_mr_volume_mostly_background():
    """Most voxels one value (air) with a tail: the order statistics fall in runs of equal values."""
    rng = np.random.default_rng(0)
    volume = np.zeros((8, 128, 128), np.uint16)
    volume[:, 30:100, 20:110] = rng.integers(100, 900, size=(8, 70, 90))
    assert np.array_equal(percentiles(volume, QS), np.percentile(volume, QS))


def test_floats_and_wide_ranges_are_numpys_own():
    rng = np.random.default_rng(1)
    floats = rng.normal(size=50_000).astype(np.float32)
    wide = rng.integers(-(1 << 30), 1 << 30, size=50_000).astype(np.int64)
    for values in (floats, wide, np.arange(100, dtype=np.uint64)):
        assert np.array_equal(percentiles(values, QS), np.percentile(values, QS))


@pytest.mark.parametrize("dtype, low, high", [(np.uint16, 0, 4096), (np.int16, -1024, 3071)])
def test_a_foregrounds_mean_and_sd_as_numpy_gives_them(dtype, low, high):
    """The brain model's z-score: mean and SD of the voxels above the 5th percentile."""
    rng = np.random.default_rng(2)
    values = rng.integers(low, high, size=200_000).astype(dtype)
    values[:40_000] = low  # air: a fifth of the image at one value
    histogram = IntegerHistogram.of(values)
    floor = histogram.percentiles(5)
    foreground = values[values > floor].astype(np.float64)
    mean, sd = histogram.mean_sd_above(floor)
    assert mean == pytest.approx(foreground.mean(), rel=1e-12) and sd == pytest.approx(foreground.std(), rel=1e-12)
    assert histogram.mean_sd_above(float(high)) is None
    assert histogram.mean_sd_above(None)[0] == pytest.approx(values.astype(np.float64).mean(), rel=1e-12)


def test_the_brain_models_z_score_is_the_same_from_the_histogram_as_from_the_voxels():
    """intensity_stats reads integer MR voxels by their histogram, floats by numpy: the same
    normalisation either way, and a blank image gets SD 1e-6, not a division by zero."""
    from radview.ai.preprocess import intensity_stats

    rng = np.random.default_rng(3)
    head = rng.integers(0, 1500, size=(12, 96, 96)).astype(np.uint16)
    head[:, :30] = 0  # the air around the head
    by_histogram = intensity_stats(head, {"method": "zscore"})
    by_voxels = intensity_stats(head.astype(np.float32), {"method": "zscore"})
    assert by_histogram == pytest.approx(by_voxels, rel=1e-6)
    assert intensity_stats(np.full((4, 128, 128), 7, np.uint16), {"method": "zscore"}) == (7.0, 1e-6)
