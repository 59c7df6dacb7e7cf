"""`radview models import BUNDLE_DIR`: a MONAI Model Zoo bundle made into a RadView model package.

The bundle's layout is the zoo's: configs/metadata.json, configs/inference.json, models/model.pt
(or model.safetensors). Its configs are read as data (radview.ai.bundle_config), its network and
transforms checked against allow-lists (radview.ai.bundle_allowlist, bundle_transforms), its
weights read without unpickling code (radview.ai.bundle_weights) and fitted to the network, then
written as weights.safetensors with a model.json (radview.ai.bundle_card) in a new folder under
the imported-models folder. The package is checked by the registry as any other before it is
moved into place, so what is imported is exactly what runs. Nothing from the bundle is executed.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radview.ai.bundle_allowlist import TASK_OF, check_literal, network_spec
from radview.ai.bundle_card import card_dict, modality_of, output_labels, slug
from radview.ai.bundle_config import BundleRefused, MethodCall, Resolver, Target, inside, read_json
from radview.ai.bundle_detection import detector_settings
from radview.ai.bundle_transforms import inferer_settings, read_steps
from radview.ai.bundle_weights import fit_network, read_state, weights_file, write_safetensors

METADATA, INFERENCE = "configs/metadata.json", "configs/inference.json"
READ_KEYS = ("network_def", "preprocessing", "postprocessing", "inferer", "anchor_generator", "detector",
             "detector_ops", "bundle_root", "ckpt_path", "ckpt_dir")  # what RadView reads; the rest is never looked at


@dataclass
class ImportResult:
    """What an import made: the package folder, its card, and what of the bundle was not used."""

    folder: Path
    card: Any  # radview.ai.card.ModelCard
    notes: list[str] = field(default_factory=list)


def _ports(metadata: dict) -> tuple[dict, dict]:
    """The network_data_format inputs and outputs of metadata.json."""
    formats = metadata.get("network_data_format", {})
    inputs = formats.get("inputs", {}) if isinstance(formats, dict) else {}
    outputs = formats.get("outputs", {}) if isinstance(formats, dict) else {}
    return (inputs if isinstance(inputs, dict) else {}), (outputs if isinstance(outputs, dict) else {})


def _weights_path(root: Path, resolver: Resolver, config: dict) -> tuple[Path, str]:
    """The weights file: the config's ckpt_path when it names one (inside the bundle), else the
    zoo's models/model.pt; BundleRefused for a path outside the bundle or a TorchScript file."""
    for key in ("ckpt_path", "ckpt_dir"):
        if key in config:
            value = resolver.resolve(config[key], f"{INFERENCE} {key}")
            if not isinstance(value, str):
                raise BundleRefused(f"{INFERENCE} {key}", value, "should be a path")
            path = inside(root, value, f"{INFERENCE} {key}")
            if key == "ckpt_path":
                if path.suffix == ".ts":
                    raise BundleRefused(f"{INFERENCE} {key}", value, "a TorchScript file is a program; never run")
                if path.is_file():
                    return path, "safetensors" if path.suffix == ".safetensors" else "torch"
    path, kind = weights_file(root)
    return inside(root, path.relative_to(root), f"models/{path.name}"), kind


def _input_channels(spec: dict) -> int:
    args = spec["args"]
    if spec["class"] == "RetinaNet":
        return int(args["feature_extractor"]["args"]["backbone"]["args"].get("n_input_channels", 3))
    return int(args.get("in_channels", 1))


def _outputs(metadata: dict, task: str, spec: dict, output_key: str, card_id: str) -> list[dict]:
    _inputs, outputs = _ports(metadata)
    port = outputs.get(output_key) or next((v for v in outputs.values() if isinstance(v, dict)), {})
    channels = port.get("channel_def", {}) if isinstance(port, dict) else {}
    if task == "detection":  # class c of the detector is output value c + 1; a box format's channel_def names
        count = int(spec["args"].get("num_classes", 1))  # box columns (class, x, y, z...), not classes
        channels = {str(c + 1): "Nodule" if count == 1 else f"class {c}" for c in range(count)}
    found = output_labels(channels if isinstance(channels, dict) else {}, card_id)
    if not found:
        raise BundleRefused(f"{METADATA} network_data_format.outputs.{output_key}.channel_def", channels,
                            "names no output class besides the background")
    return found


def read_bundle(root: Path, modality: str | None = None) -> dict:
    """Everything RadView takes from a bundle, checked: metadata, network spec, pipeline, weights path."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise BundleRefused("BUNDLE_DIR", str(root), "not a folder")
    metadata, config = read_json(root, METADATA), read_json(root, INFERENCE)
    config = {**config, "bundle_root": "."}  # RadView says where the bundle is: paths are read inside it
    resolver = Resolver(config)
    if "network_def" not in config:
        raise BundleRefused(INFERENCE, sorted(config)[:10], "has no network_def")
    spec = network_spec(resolver.resolve(config["network_def"], f"{INFERENCE} network_def"), f"{INFERENCE} network_def")
    task = TASK_OF[spec["class"]]
    if task == "classification":
        raise BundleRefused(f"{INFERENCE} network_def", spec["class"],
                            "classification bundles are not imported yet (no image-level findings from bundles)")
    channels = _input_channels(spec)
    if channels != 1:
        raise BundleRefused(f"{INFERENCE} network_def", spec["class"], f"the network reads {channels} input channels "
                            "(several series or colour); RadView runs a model on one greyscale series")
    inputs, outputs = _ports(metadata)
    image_key, output_key = next(iter(inputs), "image"), next(iter(outputs), "pred")
    image = inputs.get(image_key, {}) if isinstance(inputs.get(image_key), dict) else {}
    preprocessing, notes = read_steps(resolver.resolve(config.get("preprocessing"), f"{INFERENCE} preprocessing"),
                                      image_key, f"{INFERENCE} preprocessing")
    pipeline: dict[str, Any] = {"image_key": image_key, "output_key": output_key, "preprocessing": preprocessing}
    if task == "detection":
        pipeline["inferer"] = {"kind": "detector"}
        pipeline["detector"] = detector_settings(resolver, config, spec, INFERENCE)
        pipeline["postprocessing"] = []
        _steps, post_notes = read_steps(resolver.resolve(config.get("postprocessing"), f"{INFERENCE} postprocessing"),
                                        "box", f"{INFERENCE} postprocessing")
    else:
        pipeline["inferer"] = inferer_settings(resolver.resolve(config.get("inferer"), f"{INFERENCE} inferer"),
                                               f"{INFERENCE} inferer")
        pipeline["postprocessing"], post_notes = read_steps(
            resolver.resolve(config.get("postprocessing"), f"{INFERENCE} postprocessing"), output_key,
            f"{INFERENCE} postprocessing")
    weights, kind = _weights_path(root, resolver, config)
    chosen_modality = modality.upper() if modality else modality_of(metadata, image)
    check_literal(chosen_modality, "--modality")
    return {"root": root, "metadata": metadata, "spec": spec, "task": task, "pipeline": pipeline, "weights": weights,
            "weights_kind": kind, "modality": chosen_modality, "output_key": output_key,
            "notes": notes + post_notes, "not_read": sorted(k for k in config if k not in READ_KEYS)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_bundle(bundle_dir: Path, destination: Path, card_id: str | None = None, modality: str | None = None,
                  existing_ids: set[str] | None = None) -> ImportResult:
    """Import the bundle at `bundle_dir` as a model package `destination/<id>/`; BundleRefused
    (with the key path and value) when anything in it is not on the allow-lists."""
    from radview.ai.bundle_allowlist import build_from_spec
    from radview.ai.card import save_card
    from radview.ai.registry import check_package

    found = read_bundle(Path(bundle_dir), modality)
    if card_id is not None and slug(card_id) != card_id:
        raise BundleRefused("--id", card_id, "an id is letters, digits, '.', '_' and '-' (at most 64)")
    card_id = card_id or slug(_name(found["metadata"]) or Path(bundle_dir).name)
    if card_id in (existing_ids or set()):
        raise BundleRefused("--id", card_id, "a model with this id exists already; choose another with --id")
    target = Path(destination) / card_id
    if target.exists():
        raise BundleRefused("--id", card_id, f"{target} exists already; remove it or choose another id with --id")
    network = build_from_spec(found["spec"], f"{INFERENCE} network_def")
    fit_network(network, read_state(found["weights"], found["weights_kind"]), f"{INFERENCE} network_def")
    Path(destination).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".import-{card_id}-", dir=destination))
    try:
        _path, sha = write_safetensors(network, staging)
        sources = {METADATA: _sha256(found["root"] / METADATA), INFERENCE: _sha256(found["root"] / INFERENCE),
                   str(found["weights"].relative_to(found["root"])): _sha256(found["weights"])}
        outputs = _outputs(found["metadata"], found["task"], found["spec"], found["output_key"], card_id)
        card = card_dict(card_id, found["metadata"], found["task"], found["spec"], found["pipeline"], outputs,
                         found["modality"], sha, sources, found["not_read"])
        save_card(card, staging)
        check_package(staging)  # the registry's own checks, as at every start
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    notes = found["notes"] + [f"{INFERENCE} {k}: not read (RadView runs its own loop; nothing in it is executed)"
                              for k in found["not_read"]]
    return ImportResult(target, check_package(target), notes)


def _name(metadata: dict) -> str:
    name = metadata.get("name")
    return name if isinstance(name, str) else ""


__all__ = ["BundleRefused", "ImportResult", "MethodCall", "Target", "import_bundle", "read_bundle"]
