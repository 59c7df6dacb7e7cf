"""The model card (model.json): what a model is, what it applies to, how to run it, how good it is.

Validated field by field on load, so a broken card is refused with a message that names the file
and the field; the other models still run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from radview.core.findings import FindingKind

CARD_FILE = "model.json"
TASKS = ("segmentation", "detection")
NORMALISATIONS = ("ct_window", "zscore", "percentile")
# what turns the network's output into findings (radview.ai.engine.POSTPROCESSORS), and the kind of
# finding each makes: a card names its own, so a site's retrained model under a new id still runs
POSTPROCESSING_KINDS = {"lung_nodules_ct": FindingKind.NODULE_CT, "lung_nodules_radiograph": FindingKind.NODULE_RADIOGRAPH,
                        "brain_tumour": FindingKind.LESION_VOLUME}


class CardError(Exception):
    """A model package that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class OutputLabel:
    """One output class of a network with its DICOM code (value, scheme, meaning)."""

    value: int
    name: str
    code: tuple[str, str, str]
    color: tuple[int, int, int, int] = (255, 80, 60, 255)


@dataclass
class ModelCard:
    """model.json, parsed. See docs/architecture.md, "Model packages", and docs/ai-inputs.md."""

    path: Path
    id: str
    version: str
    task: str
    modalities: list[str]
    body_parts: list[str]
    dimensions: str  # "2d" (one image) or "3d" (a stack, run slice by slice with context)
    input_size: tuple[int, int]
    context_slices: int  # slices either side stacked as channels (2.5D); 0 for 2D
    normalisation: dict
    architecture: str
    architecture_args: dict
    postprocessing: str  # a key of POSTPROCESSING_KINDS
    outputs: list[OutputLabel]
    thresholds: dict[str, float]
    weights_file: str
    weights_sha256: str
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    intended_use: str = ""
    limitations: str = ""
    notice: str = ""
    conformance: dict = field(default_factory=dict)  # the learned input check (radview.ai.conformance)
    raw: dict = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def weights_path(self) -> Path:
        return self.folder / self.weights_file

    @property
    def in_channels(self) -> int:
        return 2 * self.context_slices + 1

    @property
    def finding_kind(self) -> FindingKind:
        return POSTPROCESSING_KINDS[self.postprocessing]

    @property
    def finding_value(self) -> int:
        """The label value of the finding (the highest output value), not the organ around it."""
        return max(o.value for o in self.outputs)

    def label(self, value: int) -> OutputLabel:
        return next(o for o in self.outputs if o.value == value)

    def summary(self) -> str:
        """One line for `radview models`."""
        shown = ", ".join(f"{k} {v}" for k, v in list(self.metrics.get("headline", {}).items())[:3])
        return f"{self.id} {self.version}: {self.task} on {'/'.join(self.modalities)} {self.dimensions}" + (
            f" — {shown}" if shown else ""
        )


def _need(raw: dict, key: str, kind: type | tuple[type, ...], path: Path):
    if key not in raw:
        raise CardError(f"{path}: the card has no '{key}'")
    value = raw[key]
    if not isinstance(value, kind):
        raise CardError(f"{path}: '{key}' should be {getattr(kind, '__name__', kind)}, not {type(value).__name__}")
    return value


def _conformance(raw: dict, path: Path) -> dict:
    """The card's "conformance" section, checked: a limit that is a positive finite number, the
    layer and the statistics file with its sha256. Absent: {} (the model has no learned check)."""
    section = raw.get("conformance")
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise CardError(f"{path}: 'conformance' should be an object")
    for key in ("method", "statistics_file", "sha256"):
        if not isinstance(section.get(key), str) or not section[key]:
            raise CardError(f"{path}: conformance.{key} should be a non-empty string")
    layers = section.get("layers")
    if not isinstance(layers, list) or not layers or not all(isinstance(n, str) and n for n in layers):
        raise CardError(f"{path}: conformance.layers should name the network layers the check reads")
    for key in ("threshold", "profile_threshold"):
        limit = section.get(key)
        if not isinstance(limit, (int, float)) or isinstance(limit, bool) or not math.isfinite(limit) or limit <= 0:
            raise CardError(f"{path}: conformance.{key} should be a positive number, not {limit!r}")
    return section


def load_card(path: Path) -> ModelCard:
    """Read and validate a model.json; CardError names the file and the field on any problem."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CardError(f"{path}: cannot read the model card ({exc})") from exc
    if not isinstance(raw, dict):
        raise CardError(f"{path}: the model card is not a JSON object")
    task = _need(raw, "task", str, path)
    if task not in TASKS:
        raise CardError(f"{path}: unknown task '{task}' (known: {', '.join(TASKS)})")
    applies = _need(raw, "applies_to", dict, path)
    model_input = _need(raw, "input", dict, path)
    size = _need(model_input, "size", list, path)
    if len(size) != 2 or not all(isinstance(v, int) and 16 <= v <= 4096 for v in size):
        raise CardError(f"{path}: input.size should be two integers between 16 and 4096")
    normalisation = _need(model_input, "normalisation", dict, path)
    if normalisation.get("method") not in NORMALISATIONS:
        raise CardError(f"{path}: unknown input normalisation {normalisation.get('method')!r}")
    architecture = _need(raw, "architecture", dict, path)
    weights = _need(raw, "weights", dict, path)
    outputs = []
    for out in _need(raw, "outputs", list, path):
        try:
            outputs.append(OutputLabel(int(out["value"]), str(out["name"]), tuple(out["code"]),  # type: ignore[arg-type]
                                       tuple(out.get("color", (255, 80, 60, 255)))))  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError) as exc:
            raise CardError(f"{path}: an output label is malformed ({exc})") from exc
    postprocessing = _need(raw, "postprocessing", str, path)
    if postprocessing not in POSTPROCESSING_KINDS:
        raise CardError(f"{path}: unknown postprocessing {postprocessing!r} (known: {', '.join(POSTPROCESSING_KINDS)})")
    dimensions = str(applies.get("dimensions", ""))
    if dimensions not in ("2d", "3d"):
        raise CardError(f"{path}: applies_to.dimensions should be '2d' or '3d'")
    return ModelCard(
        path=path,
        id=_need(raw, "id", str, path),
        version=_need(raw, "version", str, path),
        task=task,
        modalities=[str(m) for m in applies.get("modalities", [])],
        body_parts=[str(b).upper() for b in applies.get("body_parts", [])],
        dimensions=dimensions,
        input_size=(size[0], size[1]),
        context_slices=int(model_input.get("context_slices", 0)),
        normalisation=normalisation,
        architecture=_need(architecture, "name", str, path),
        architecture_args=dict(architecture.get("args", {})),
        postprocessing=postprocessing,
        outputs=outputs,
        thresholds={k: float(v) for k, v in raw.get("thresholds", {}).items()},
        weights_file=_need(weights, "file", str, path),
        weights_sha256=_need(weights, "sha256", str, path),
        training=raw.get("training", {}),
        metrics=raw.get("metrics", {}),
        intended_use=raw.get("intended_use", ""),
        limitations=raw.get("limitations", ""),
        notice=raw.get("notice", ""),
        conformance=_conformance(raw, path),
        raw=raw,
    )


def save_card(card_dict: dict, folder: Path) -> Path:
    """Write a card dict as model.json in `folder` (atomically)."""
    from radview.core.atomic import write_text_atomic

    path = Path(folder) / CARD_FILE
    write_text_atomic(path, json.dumps(card_dict, indent=2) + "\n")
    return path
