"""The network architectures a model card may name. Nothing else is ever instantiated.

A card names an architecture and its keyword arguments; weights come from safetensors only.
"""

from __future__ import annotations

from typing import Any

ARCHITECTURES = ("monai.UNet", "monai.bundle")  # monai.bundle: an imported bundle's allow-listed network


def build_network(name: str, args: dict[str, Any]):
    """A torch.nn.Module for `name` with `args`; ValueError for an unknown name or bad args.

    monai.UNet: 2D U-Net; input (batch, in_channels, H, W), output (batch, out_channels, H, W)
    logits. H and W must be divisible by the product of `strides`.
    """
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture '{name}' (known: {', '.join(ARCHITECTURES)})")
    if name == "monai.bundle":  # checked against radview.ai.bundle_allowlist again before it is built
        from radview.ai.bundle_allowlist import build_from_spec
        from radview.ai.bundle_config import BundleRefused

        try:
            return build_from_spec(args, "architecture.args")
        except BundleRefused as exc:
            raise ValueError(f"{name}: {exc}") from exc
    from monai.networks.nets import UNet

    allowed = {"spatial_dims", "in_channels", "out_channels", "channels", "strides", "num_res_units", "norm", "dropout"}
    unknown = set(args) - allowed
    if unknown:
        raise ValueError(f"{name}: unexpected arguments {sorted(unknown)}")
    try:
        return UNet(**args)
    except (TypeError, ValueError, AssertionError) as exc:
        raise ValueError(f"{name}: invalid arguments ({exc})") from exc
