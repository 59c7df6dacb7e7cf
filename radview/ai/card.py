"""The model card (model.json): what a model is, what it applies to, how to run it, how good it is.

Validated on load against a JSON Schema (radview.ai.card_schema), with its size and nesting bounded
before parsing, so a broken card is refused with a message that names the file and the field by its
JSON path; the other models still run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from radview.ai.card_schema import (MAX_CARD_BYTES, card_validator, consistency_problem, nesting_problem,
                                    schema_problem)
from radview.core.findings import FindingKind

CARD_FILE = "model.json"
MODEL_FILE_MODE = 0o644  # a model package is shared, not private (share_model_file)
TASKS = ("segmentation", "detection")
NORMALISATIONS = ("ct_window", "zscore", "percentile", "bundle")  # bundle: an imported bundle's own steps
# what turns the network's output into findings (radview.ai.engine.POSTPROCESSORS), and the kind of
# finding each makes: a card names its own, so a site's retrained model under a new id still runs
POSTPROCESSING_KINDS = {"lung_nodules_ct": FindingKind.NODULE_CT, "lung_nodules_radiograph": FindingKind.NODULE_RADIOGRAPH,
                        "brain_tumour": FindingKind.LESION_VOLUME,
                        # imported MONAI bundles (radview.ai.bundle_findings): segments, and boxes as nodules
                        "bundle_segmentation": FindingKind.LESION_VOLUME, "bundle_detection": FindingKind.NODULE_CT}


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

    @property
    def is_bundle(self) -> bool:
        """An imported MONAI bundle (radview.ai.bundle_import), run by radview.ai.bundle_engine."""
        return self.architecture == "monai.bundle"

    @property
    def has_input_check(self) -> bool:
        """False for a model with no input-conformance check (an imported one: its card says why)."""
        return self.conformance.get("method") != "none"

    def label(self, value: int) -> OutputLabel:
        return next(o for o in self.outputs if o.value == value)

    def summary(self) -> str:
        """One line for `radview models`."""
        shown = ", ".join(f"{k} {v}" for k, v in list(self.metrics.get("headline", {}).items())[:3])
        return f"{self.id} {self.version}: {self.task} on {'/'.join(self.modalities)} {self.dimensions}" + (
            f" — {shown}" if shown else ""
        )


def _finite(text: str) -> float:
    """A JSON number as a float; 1e400 would parse as inf, which no card field means."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")  # json.loads accepts NaN and Infinity otherwise


def _read_raw(path: Path) -> object:
    """The card's JSON, read with its size and nesting bounded before it is parsed."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CARD_BYTES + 1)  # no more: a card is never read whole if it is huge
    except OSError as exc:
        raise CardError(f"{path}: cannot read the model card ({exc})") from exc
    if len(data) > MAX_CARD_BYTES:
        raise CardError(f"{path}: the model card is larger than {MAX_CARD_BYTES >> 10} kB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CardError(f"{path}: cannot read the model card ({exc})") from exc
    deep = nesting_problem(text)
    if deep:
        raise CardError(f"{path}: {deep}")
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError; so is a 5,000-digit integer
        raise CardError(f"{path}: cannot read the model card ({exc})") from exc


def _checked_raw(path: Path) -> dict:
    """The card's JSON after the schema and the cross-field checks (radview.ai.card_schema)."""
    raw = _read_raw(path)
    validator = card_validator(TASKS, NORMALISATIONS, tuple(POSTPROCESSING_KINDS))
    problem = schema_problem(raw, validator) or consistency_problem(raw)  # type: ignore[arg-type]
    if problem:
        raise CardError(f"{path}: {problem}")
    return raw  # type: ignore[return-value]


def _card_from(raw: dict, path: Path) -> ModelCard:
    """A ModelCard from JSON that has passed the checks, so every field read here is there."""
    applies, model_input = raw["applies_to"], raw["input"]
    outputs = [OutputLabel(out["value"], out["name"], tuple(out["code"]), tuple(out.get("color", (255, 80, 60, 255))))  # type: ignore[arg-type]
               for out in raw["outputs"]]
    return ModelCard(
        path=path,
        id=raw["id"],
        version=raw["version"],
        task=raw["task"],
        modalities=list(applies["modalities"]),
        body_parts=[b.upper() for b in applies.get("body_parts", [])],
        dimensions=applies["dimensions"],
        input_size=(model_input["size"][0], model_input["size"][1]),
        context_slices=model_input.get("context_slices", 0),
        normalisation=model_input["normalisation"],
        architecture=raw["architecture"]["name"],
        architecture_args=dict(raw["architecture"]["args"]),
        postprocessing=raw["postprocessing"],
        outputs=outputs,
        thresholds={k: float(v) for k, v in raw.get("thresholds", {}).items()},
        weights_file=raw["weights"]["file"],
        weights_sha256=raw["weights"]["sha256"],
        training=raw.get("training", {}),
        metrics=raw.get("metrics", {}),
        intended_use=raw.get("intended_use", ""),
        limitations=raw.get("limitations", ""),
        notice=raw.get("notice", ""),
        conformance=raw.get("conformance", {}),
        raw=raw,
    )


def load_card(path: Path) -> ModelCard:
    """Read and validate a model.json; CardError names the file and the field on any problem,
    and no other exception escapes: a card is untrusted input, and one bad card must not stop
    the others from being listed."""
    path = Path(path)
    try:
        return _card_from(_checked_raw(path), path)
    except CardError:
        raise
    except Exception as exc:  # a gap in the checks: still this card's problem, not the caller's
        raise CardError(f"{path}: the model card could not be checked ({type(exc).__name__}: {exc})") from exc


def share_model_file(path: Path) -> Path:
    """Make a file of a model package readable by every user of the workstation (0644): a model
    holds no patient data, and a site that retrains on a shared workstation shares the model.
    RadView's atomic writes and safetensors write 0600."""
    import os

    if os.name == "posix":
        os.chmod(path, MODEL_FILE_MODE)
    return Path(path)


def save_card(card_dict: dict, folder: Path) -> Path:
    """Write a card dict as model.json in `folder` (atomically), readable by all (share_model_file)."""
    from radview.core.atomic import write_text_atomic

    path = Path(folder) / CARD_FILE
    write_text_atomic(path, json.dumps(card_dict, indent=2) + "\n")
    return share_model_file(path)
