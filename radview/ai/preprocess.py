"""Turn a volume's voxels into network input, as the model card says (pure numpy)."""

from __future__ import annotations

import numpy as np

from radview.core.percentiles import IntegerHistogram, percentiles


def intensity_stats(voxels: np.ndarray, normalisation: dict) -> tuple[float, float]:
    """(offset, scale) for a whole volume, so every slice of it is normalised alike.

    ct_window: HU clipped to [low, high] -> 0..1. zscore: mean and SD of the voxels above the
    5th percentile (the head, not the air). percentile: the 1st..99th percentile -> 0..1.
    """
    method = normalisation["method"]
    if method == "ct_window":
        low, high = float(normalisation.get("low_hu", -1000)), float(normalisation.get("high_hu", 400))
        return low, high - low
    sample = voxels.reshape(-1)[:: max(1, voxels.size // 2_000_000)]
    histogram = IntegerHistogram.of(sample)  # scanner pixels: every statistic from one bincount
    if method == "zscore" and histogram is not None:
        # all voxels at one value: none above the floor, so the mean and SD of all of them
        mean, sd = histogram.mean_sd_above(histogram.percentiles(5)) or histogram.mean_sd_above(None)
        return mean, max(sd, 1e-6)
    if method == "zscore":
        floor = percentiles(sample, 5)
        foreground = sample[sample > floor].astype(np.float32)
        if foreground.size == 0:
            foreground = sample.astype(np.float32)
        return float(foreground.mean()), float(max(foreground.std(), 1e-6))
    low, high = percentiles(sample, [1, 99]) if histogram is None else histogram.percentiles([1, 99])
    return float(low), float(max(high - low, 1e-6))


def normalise(values: np.ndarray, stats: tuple[float, float], normalisation: dict, inverted: bool = False) -> np.ndarray:
    """float32 network input from raw values; MONOCHROME1 images are inverted first (docs/domain.md)."""
    offset, scale = stats
    out = values.astype(np.float32)  # a copy: the steps below work in place on it
    out -= np.float32(offset)
    out /= np.float32(scale)
    if normalisation["method"] in ("ct_window", "percentile"):
        np.clip(out, 0.0, 1.0, out=out)
        if inverted:
            np.subtract(1.0, out, out=out)
    return out


def slice_with_context(voxels: np.ndarray, k: int, context: int) -> np.ndarray:
    """(2 * context + 1, rows, cols): slice k with its neighbours as channels (edges repeat)."""
    ks = np.clip(np.arange(k - context, k + context + 1), 0, voxels.shape[0] - 1)
    return voxels[ks]
