"""The MONAI networks an imported bundle may name, with the arguments each may take, and nothing else.

A bundle's `network_def` (read as data by radview.ai.bundle_config) becomes a *network spec*:
`{"class": "SegResNet", "args": {...}}`, nested for RetinaNet (its feature extractor and ResNet
backbone). The spec is checked here when the bundle is imported and again every time the card is
loaded (the card is untrusted too), and only then built, by looking the class up in this table:
a name that is not in it is never imported. Arguments must be literals within bounds; `pretrained`
downloads are refused (nothing is fetched), and unknown arguments are refused, not passed on.
"""

from __future__ import annotations

import re
from typing import Any

from radview.ai.bundle_config import BundleRefused, Target

MAX_INT = 4096  # widest channel count, largest image size or patch a network argument may name
MAX_LIST = 32
_WORD = re.compile(r"^[A-Za-z0-9_.\-]{0,64}$")  # activation / norm / mode names: no code, no paths

# class -> (module under monai that defines it, positional parameter order, accepted keyword arguments)
_SEGMENTATION = {
    "UNet": ("networks.nets.unet", ("spatial_dims", "in_channels", "out_channels", "channels", "strides", "kernel_size",
                                    "up_kernel_size", "num_res_units", "act", "norm", "dropout", "bias", "adn_ordering")),
    "BasicUNet": ("networks.nets.basic_unet", ("spatial_dims", "in_channels", "out_channels", "features", "act", "norm",
                                               "bias", "dropout", "upsample")),
    "SegResNet": ("networks.nets.segresnet", ("spatial_dims", "init_filters", "in_channels", "out_channels", "dropout_prob",
                                              "act", "norm", "norm_name", "num_groups", "use_conv_final", "blocks_down",
                                              "blocks_up", "upsample_mode")),
    "DynUNet": ("networks.nets.dynunet", ("spatial_dims", "in_channels", "out_channels", "kernel_size", "strides",
                                          "upsample_kernel_size", "filters", "dropout", "norm_name", "act_name",
                                          "deep_supervision", "deep_supr_num", "res_block", "trans_bias")),
    "UNETR": ("networks.nets.unetr", ("in_channels", "out_channels", "img_size", "feature_size", "hidden_size", "mlp_dim",
                                      "num_heads", "proj_type", "norm_name", "conv_block", "res_block", "dropout_rate",
                                      "spatial_dims", "qkv_bias", "save_attn")),
    "SwinUNETR": ("networks.nets.swin_unetr", ("in_channels", "out_channels", "patch_size", "depths", "num_heads",
                                               "window_size", "qkv_bias", "mlp_ratio", "feature_size", "norm_name",
                                               "drop_rate", "attn_drop_rate", "dropout_path_rate", "normalize",
                                               "norm_layer", "patch_norm", "use_checkpoint", "spatial_dims", "downsample",
                                               "use_v2")),
    "AttentionUnet": ("networks.nets.attentionunet", ("spatial_dims", "in_channels", "out_channels", "channels", "strides",
                                                      "kernel_size", "up_kernel_size", "dropout")),
}
_CLASSIFIERS = {name: ("networks.nets.densenet", ("spatial_dims", "in_channels", "out_channels", "init_features",
                                                  "growth_rate", "block_config", "bn_size", "act", "norm", "dropout_prob"))
                for name in ("DenseNet121", "DenseNet169", "DenseNet201")}
_RESNET_ARGS = ("spatial_dims", "n_input_channels", "conv1_t_size", "conv1_t_stride", "no_max_pool", "shortcut_type",
                "widen_factor", "num_classes", "feed_forward", "bias_downsample", "pretrained", "progress")
_BACKBONES = {
    "ResNet": ("networks.nets.resnet", ("block", "layers", "block_inplanes") + _RESNET_ARGS[:-2]),
    **{f"resnet{depth}": ("networks.nets.resnet", _RESNET_ARGS) for depth in (10, 18, 34, 50, 101, 152, 200)},
}
_DETECTION = {
    "RetinaNet": ("apps.detection.networks.retinanet_network", ("spatial_dims", "num_classes", "num_anchors",
                                                                 "feature_extractor", "size_divisible", "use_list_output")),
}
_EXTRACTORS = {
    "resnet_fpn_feature_extractor": ("apps.detection.networks.retinanet_network",
                                     ("backbone", "spatial_dims", "pretrained_backbone", "returned_layers",
                                      "trainable_backbone_layers")),
}
NETWORKS = {**_SEGMENTATION, **_CLASSIFIERS, **_DETECTION}
_ALL = {**NETWORKS, **_BACKBONES, **_EXTRACTORS}
_NESTED = {("RetinaNet", "feature_extractor"): _EXTRACTORS, ("resnet_fpn_feature_extractor", "backbone"): _BACKBONES}
_NEVER_TRUE = ("pretrained", "pretrained_backbone", "progress")  # True would download weights from the internet
TASK_OF = {**{n: "segmentation" for n in _SEGMENTATION}, **{n: "classification" for n in _CLASSIFIERS},
           **{n: "detection" for n in _DETECTION}}


def canonical_name(name: str, table: dict, where: str) -> str:
    """The class a `_target_` names (`UNet`, `monai.networks.nets.UNet`, `monai.networks.nets.unet.UNet`)."""
    for known, (module, _args) in table.items():
        if name in (known, f"monai.networks.nets.{known}", f"monai.{module}.{known}"):
            return known
    raise BundleRefused(where, name, f"not on RadView's allow-list of MONAI networks ({', '.join(table)})")


def check_literal(value: Any, where: str, depth: int = 0) -> Any:
    """`value` when it is bounded literal data (numbers, short names, lists, small dicts); else refused."""
    if depth > 4:
        raise BundleRefused(where, value, "nests too deep for a network argument")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if abs(value) > MAX_INT * MAX_INT:
            raise BundleRefused(where, value, "out of range")
        if isinstance(value, int) and value > MAX_INT and depth == 0:
            raise BundleRefused(where, value, f"larger than {MAX_INT}: no imported network may be that wide")
        return value
    if isinstance(value, str):
        if not _WORD.match(value):
            raise BundleRefused(where, value, "not a plain name (letters, digits, '.', '_', '-')")
        return value
    if isinstance(value, list):
        if len(value) > MAX_LIST:
            raise BundleRefused(where, value, f"a list longer than {MAX_LIST}")
        return [check_literal(v, f"{where}[{n}]", depth + 1) for n, v in enumerate(value)]
    if isinstance(value, dict) and len(value) <= MAX_LIST and all(isinstance(k, str) and _WORD.match(k) for k in value):
        return {k: check_literal(v, f"{where}.{k}", depth + 1) for k, v in value.items()}
    raise BundleRefused(where, value, "not a literal argument")


def network_spec(target: Any, where: str, table: dict | None = None) -> dict:
    """The checked spec of a network Target (or of a spec dict read back from a card)."""
    table = NETWORKS if table is None else table
    if isinstance(target, dict) and set(target) == {"class", "args"} and isinstance(target["args"], dict):
        name, args, kwargs = target["class"], (), dict(target["args"])
    elif isinstance(target, Target):
        name, args, kwargs = target.name, target.args, dict(target.kwargs)
    else:
        raise BundleRefused(where, target, "a network must be a `_target_` object naming a MONAI network")
    if not isinstance(name, str):
        raise BundleRefused(f"{where}._target_", name, "not a class name")
    known = canonical_name(name, table, f"{where}._target_")
    order = _ALL[known][1]
    if len(args) > len(order):
        raise BundleRefused(where, list(args), f"{known} takes at most {len(order)} positional arguments")
    for key, value in zip(order, args, strict=False):
        if key in kwargs:
            raise BundleRefused(f"{where}.{key}", value, "given twice")
        kwargs[key] = value
    checked = {}
    for key, value in kwargs.items():
        if key not in order:
            raise BundleRefused(f"{where}.{key}", value, f"{known} takes no argument '{key}' on RadView's allow-list")
        nested = _NESTED.get((known, key))
        if nested is not None:
            checked[key] = network_spec(value, f"{where}.{key}", nested)
        elif key in _NEVER_TRUE and value:
            raise BundleRefused(f"{where}.{key}", value, "would download weights from the internet; set it false")
        else:
            checked[key] = check_literal(value, f"{where}.{key}")
    missing = [key for (parent, key) in _NESTED if parent == known and key not in checked]
    if missing:
        raise BundleRefused(where, known, f"needs {missing[0]} as a `_target_` object")
    return {"class": known, "args": checked}


def build_from_spec(spec: dict, where: str = "network"):
    """The torch.nn.Module of a spec, after checking it again; only classes of this table are looked up."""
    import importlib

    checked = network_spec(spec, where, _ALL)
    name, module = checked["class"], _ALL[checked["class"]][0]
    args = dict(checked["args"])
    for key, value in list(args.items()):
        if isinstance(value, dict) and set(value) == {"class", "args"}:
            args[key] = build_from_spec(value, f"{where}.{key}")
    for key in ("conv1_t_size", "conv1_t_stride"):  # MONAI's ResNet asks for tuples, JSON has lists
        if isinstance(args.get(key), list):
            args[key] = tuple(args[key])
    if name == "resnet_fpn_feature_extractor":
        return _fpn_extractor(args)
    callable_ = getattr(importlib.import_module(f"monai.{module}"), name)
    try:
        return callable_(**args)
    except (TypeError, ValueError, AssertionError, RuntimeError, KeyError, IndexError) as exc:
        raise BundleRefused(where, name, f"cannot be built from these arguments ({type(exc).__name__}: {exc})") from exc


def _fpn_extractor(args: dict):
    """MONAI's resnet_fpn_feature_extractor with no pretrained backbone (the only case allowed), built
    by radview.ai.bundle_fpn (the same module tree, without torchvision). Its trainable layers only
    set requires_grad, which inference never reads."""
    from radview.ai.bundle_fpn import ResNetFPN

    returned = args.get("returned_layers", [1, 2, 3])
    try:
        return ResNetFPN(args["backbone"], int(args.get("spatial_dims", 3)), list(returned))
    except (TypeError, ValueError, AttributeError) as exc:
        raise BundleRefused("network_def.feature_extractor", returned, f"cannot be built ({exc})") from exc
