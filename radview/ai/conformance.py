"""Input conformance: is this image like the data the model was trained on?

A model trained on RadView's synthetic phantoms is wrong and confident on a real patient's
images, so before any finding is shown the input is compared with the training data twice:

- in the network's own feature space: each encoder layer's output, pooled to the bottleneck
  grid (mean and root mean square), one vector per bottleneck position, scored by its
  Mahalanobis distance from a Gaussian fitted to the training images' vectors (Lee et al., "A
  Simple Unified Framework for Detecting Out-of-Distribution Samples and Adversarial Attacks",
  NeurIPS 2018; several layers per position as in PaDiM, Defard et al. 2020). A slice scores a
  percentile of its positions' distances, an image the median over a sample of its slices;
- by its intensity profile: the share of each slice's normalised input in each intensity band,
  scored the same way against the training slices' profiles (what the image is made of);
- by the imaged body's extent in mm (radview.ai.body_extent), against the training images' range:
  normalised features do not see size, so without it a head model passes a chest.

An image passes when all stay within the card's limits, chosen on held-out images of the
training distribution (never used for the fit) so that at least 99 % of them pass. The fit and
the limits are made by `radview train` (radview.ai.conformance_training) and kept in the model
package: the limits and how they were chosen in the card's "conformance" section, the Gaussians
in the safetensors file it names, with its sha256 (docs/ai-inputs.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radview.ai.body_extent import body_extent_mm
from radview.ai.card import CardError, ModelCard, share_model_file
from radview.ai.encoder_features import layer_features
from radview.ai.predict import SliceInputs
from radview.core.percentiles import percentiles

METHOD = "mahalanobis-encoder-features+intensity-profile"
STATISTICS_FILE = "conformance.safetensors"
SLICES_SAMPLED = 24  # slices of a volume that are checked (evenly spaced); all when fewer
POSITION_PERCENTILE = 75.0  # a slice's score: this percentile of its positions' distances (a quarter of
# the image unlike the training data is enough to fail; chosen on real and phantom images, docs/ai-inputs.md)
MAX_FIT_POSITIONS = 400_000  # positions drawn for the Gaussian fit (memory, not accuracy)
HISTOGRAM_BINS = 16  # intensity bands of the profile (over 0..1, or -3..3 SD for z-scored MR)
SPREAD_SD = 4.0  # the limit is at least the held-out mean + this many SD
UNLIKE_TRAINING = "this image is unlike the data the model was trained on; no AI findings are shown"


@dataclass(frozen=True)
class ConformanceResult:
    """The outcome of the check for one series: the score, the card's limit, and why in words."""

    passed: bool
    score: float | None  # feature distance; None: not scored (the image cannot be prepared as the model needs)
    threshold: float  # the card's feature limit
    slices_checked: int
    reason: str  # measured, for the reader: "feature distance 41.3 (limit 18.2), intensity-profile ..."
    profile_score: float | None = None  # intensity-profile distance
    profile_threshold: float | None = None  # the card's profile limit
    body_extent_mm: float | None = None  # the imaged body's extent (radview.ai.body_extent); None: not measured

    def to_dict(self) -> dict:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 3)
        return {"passed": self.passed, "score": rounded(self.score), "threshold": rounded(self.threshold),
                "profile_score": rounded(self.profile_score), "profile_threshold": rounded(self.profile_threshold),
                "body_extent_mm": rounded(self.body_extent_mm), "slices_checked": self.slices_checked,
                "reason": self.reason}


def sampled_slices(count: int, limit: int = SLICES_SAMPLED) -> np.ndarray:
    """Indices of up to `limit` slices spread evenly over a volume of `count` slices."""
    return np.unique(np.linspace(0, count - 1, min(count, limit)).round().astype(int))


def fit_gaussian(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, precision) of (N, C) features, the covariance shrunk by Ledoit and Wolf's formula
    ("A well-conditioned estimator for large-dimensional covariance matrices", 2004) so that the
    precision exists even where channels are nearly collinear."""
    x = features.astype(np.float64)
    mean = x.mean(axis=0)
    x -= mean
    n, c = x.shape
    sample = x.T @ x / n
    mu = np.trace(sample) / c
    target = mu * np.eye(c)
    delta = np.sum((sample - target) ** 2) / c
    # beta: how much of delta is the sampling noise of the covariance estimate (batched for memory)
    beta = 0.0
    for start in range(0, n, 20_000):
        block = x[start : start + 20_000]
        squared = block**2
        beta += np.sum(squared.T @ squared) - 2 * np.sum((block @ sample) * block) + len(block) * np.sum(sample**2)
    beta = min(beta / (n * n * c), delta)
    shrinkage = beta / delta if delta > 0 else 1.0
    covariance = shrinkage * target + (1 - shrinkage) * sample
    return mean.astype(np.float32), np.linalg.inv(covariance).astype(np.float32)


def slice_score(features: np.ndarray, mean: np.ndarray, precision: np.ndarray,
                percentile: float = POSITION_PERCENTILE) -> float:
    """The `percentile` of the Mahalanobis distances of one slice's positions."""
    return float(np.percentile(_distances(features, mean, precision), percentile))


def _distances(rows: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """Mahalanobis distance of each row (one matrix product, not a per-row loop; in torch, whose
    threads are not held to one as numpy's BLAS is during a model run: half the time)."""
    import torch

    centred = torch.from_numpy(np.ascontiguousarray(rows, np.float32)) - torch.from_numpy(np.asarray(mean, np.float32))
    squared = ((centred @ torch.from_numpy(np.asarray(precision, np.float32))) * centred).sum(dim=1)
    return squared.clamp_min(0.0).sqrt().numpy()


def image_score(slice_features: list[np.ndarray], mean: np.ndarray, precision: np.ndarray,
                percentile: float = POSITION_PERCENTILE) -> float:
    """The median of the slices' scores: one image's distance from the training data."""
    return float(np.median([slice_score(f, mean, precision, percentile) for f in slice_features]))


def intensity_profiles(card: ModelCard, inputs: SliceInputs, indices: np.ndarray) -> np.ndarray:
    """(slices, HISTOGRAM_BINS) share of each slice's normalised network input per intensity band:
    what the image is made of (air, lung, soft tissue, bone on CT). A constant or blank image, or
    one whose contrast is unlike the training images', has a profile none of them has, even where
    each of its regions alone looks like some region of a training image."""
    low, high = (-3.0, 3.0) if card.normalisation["method"] == "zscore" else (0.0, 1.0)
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    profiles = []
    for k in indices:
        values = inputs.image(int(k))  # the slice itself, not its context
        counts, _ = np.histogram(np.clip(np.nan_to_num(values, nan=low), low, high), edges)
        profiles.append(counts / max(1, values.size))
    return np.asarray(profiles, np.float32)


def profile_score(profiles: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> float:
    """The median over slices of the profiles' Mahalanobis distances."""
    return float(np.median(_distances(profiles, mean, precision)))


@dataclass(frozen=True)
class Statistics:
    """The two Gaussians of the check: encoder features per position, intensity profile per slice."""

    feature_mean: np.ndarray
    feature_precision: np.ndarray
    profile_mean: np.ndarray
    profile_precision: np.ndarray


def load_statistics(card: ModelCard) -> Statistics:
    """The package's statistics file, after its sha256 matches the card."""
    from safetensors.numpy import load_file

    from radview.ai.registry import sha256_of

    section = card.conformance or {}
    path = card.folder / section["statistics_file"]
    if not path.is_file():
        raise CardError(f"{path}: the input-conformance statistics are missing")
    if sha256_of(path) != section["sha256"]:
        raise CardError(f"{path}: checksum mismatch; the input check cannot be trusted, so the model is not run")
    tensors = load_file(str(path))
    return Statistics(**{name: tensors[name] for name in Statistics.__dataclass_fields__})


@dataclass(frozen=True)
class Screened:
    """The check's cheap part, done before any network pass (screen_input)."""

    indices: np.ndarray  # the sampled slices
    stats: Statistics
    refused: ConformanceResult | None  # the image cannot be judged, or its body is not the training images' size
    body_extent_mm: float | None = None  # None: not measured (no pixel spacing, or the card has no limits)


def screen_input(card: ModelCard, inputs: SliceInputs, pixel_spacing_mm: tuple[float, float] | None) -> Screened:
    """The sampled slices, the package's statistics (CardError when the card has no check or its
    file is changed), and a refusal when the image cannot be judged (values that are not finite,
    a blank image) or its body's extent lies outside the card's limits.
    pixel_spacing_mm: the image's, or None where it is not known (the extent is then not judged)."""
    section = card.conformance
    if not section:
        raise CardError(f"{card.path}: the card has no input-conformance check")
    stats = load_statistics(card)
    indices = sampled_slices(int(inputs.voxels.shape[0]), int(section.get("slices_sampled", SLICES_SAMPLED)))
    threshold = float(section["threshold"])

    def refuse(why: str, extent: float | None = None) -> Screened:
        return Screened(indices, stats, ConformanceResult(False, None, threshold, len(indices), f"{UNLIKE_TRAINING} ({why})",
                                                          body_extent_mm=extent), extent)

    sampled = inputs.voxels[indices]
    if not np.isfinite(sampled).all():  # NaN or infinite voxels: unlike any image, and not JSON
        return refuse("the image holds values that are not finite numbers")
    low, high = percentiles(sampled, [0.5, 99.5])
    if float(high) - float(low) <= 0:
        # a blank image: every network input is one value, which no learned statistic can judge
        return refuse("the image is blank: one value throughout")
    limits = section.get("body_extent_mm")
    if not limits or pixel_spacing_mm is None:
        return Screened(indices, stats, None)
    extent = body_extent_mm(sampled, pixel_spacing_mm, float(low), float(high), inputs.inverted)
    if not limits["low"] <= extent <= limits["high"]:
        return refuse(f"the imaged body is {extent:.0f} mm across; the training images' were "
                      f"{limits['training_min']:.0f}-{limits['training_max']:.0f} mm (limits {limits['low']:.0f}-"
                      f"{limits['high']:.0f} mm)", extent)
    return Screened(indices, stats, None, extent)


def judge(card: ModelCard, inputs: SliceInputs, screened: Screened, features: list[np.ndarray]) -> ConformanceResult:
    """Score the sampled slices' encoder features (and their intensity profiles) against the card's limits."""
    section, indices, stats = card.conformance, screened.indices, screened.stats
    threshold, profile_limit = float(section["threshold"]), float(section["profile_threshold"])
    score = image_score(features, stats.feature_mean, stats.feature_precision,
                        float(section.get("position_percentile", POSITION_PERCENTILE)))
    profile = profile_score(intensity_profiles(card, inputs, indices), stats.profile_mean, stats.profile_precision)
    extent, limits = screened.body_extent_mm, section.get("body_extent_mm")
    body = "" if extent is None else f"; body {extent:.0f} mm across (limits {limits['low']:.0f}-{limits['high']:.0f} mm)"
    measured = (f"feature distance {score:.1f} (limit {threshold:.1f}), intensity-profile distance {profile:.1f} "
                f"(limit {profile_limit:.1f}) from the training data{body}; {len(indices)} image(s) checked")
    passed = score <= threshold and profile <= profile_limit
    return ConformanceResult(passed, score, threshold, len(indices),
                             f"input check passed: {measured}" if passed else f"{UNLIKE_TRAINING} ({measured})",
                             profile, profile_limit, screened.body_extent_mm)


def check_conformance(network, card: ModelCard, inputs: SliceInputs, pixel_spacing_mm: tuple[float, float] | None,
                      device: str = "cpu") -> ConformanceResult:
    """Score an image (its SliceInputs; its pixel spacing, None where unknown) against the card's
    limits; no card section: CardError."""
    screened = screen_input(card, inputs, pixel_spacing_mm)
    if screened.refused is not None:
        return screened.refused
    return judge(card, inputs, screened,
                 layer_features(network, card, card.conformance["layers"], inputs, screened.indices, device))


def threshold_for(scores: list[float], pass_share: float = 0.99) -> float:
    """A limit that at least `pass_share` of images like the held-out ones stay within: the
    empirical quantile, raised to the mean + 4 SD of the held-out scores when that is higher
    (a few dozen held-out images show neither a 99 % quantile nor their own spread well; the
    test images measure the pass rate the limit gives)."""
    if not scores:
        raise ValueError("the input check's limit needs at least one held-out patient (a validation patient)")
    ordered = np.sort(np.asarray(scores, float))
    empirical = float(ordered[int(np.ceil(pass_share * len(ordered))) - 1])
    spread = float(ordered.mean() + SPREAD_SD * ordered.std(ddof=1)) if len(ordered) > 1 else empirical
    return max(empirical, spread)


def write_statistics(folder: Path, statistics: Statistics) -> Path:
    """Save the Gaussians beside the weights (safetensors: data only, never code)."""
    from safetensors.numpy import save_file

    path = Path(folder) / STATISTICS_FILE
    save_file({name: np.ascontiguousarray(getattr(statistics, name)) for name in Statistics.__dataclass_fields__},
              str(path))
    return share_model_file(path)
