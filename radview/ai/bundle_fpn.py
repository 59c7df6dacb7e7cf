"""RetinaNet's ResNet + feature-pyramid extractor, built without torchvision.

MONAI's resnet_fpn_feature_extractor (what the zoo's lung_nodule_ct_detection names) takes its
layer getter from torchvision, which RadView does not install (a large dependency pinned to one
torch build) for a dozen lines. This is the same module tree, so a MONAI bundle's state dict
(`feature_extractor.body.layer1...`, `feature_extractor.fpn...`) loads unchanged: torchvision's
IntermediateLayerGetter (a ModuleDict of the backbone's children up to the last returned layer)
and MONAI's BackboneWithFPN / _resnet_fpn_extractor (monai/networks/blocks/backbone_fpn_utils.py).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

FPN_CHANNELS = 256  # MONAI's _resnet_fpn_extractor fixes it


class LayerGetter(nn.ModuleDict):
    """The backbone's children in order, up to the last one returned; forward gives
    {name: output} of the returned ones (torchvision's IntermediateLayerGetter)."""

    def __init__(self, model: nn.Module, return_layers: dict[str, str]) -> None:
        names = [name for name, _ in model.named_children()]
        if not set(return_layers).issubset(names):
            raise ValueError(f"return_layers {sorted(return_layers)} are not all layers of the backbone")
        waiting = dict(return_layers)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for name, module in model.named_children():
            layers[name] = module
            waiting.pop(name, None)
            if not waiting:
                break
        super().__init__(layers)
        self.return_layers = dict(return_layers)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out: OrderedDict[str, torch.Tensor] = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


class ResNetFPN(nn.Module):
    """Backbone features and their pyramid: (B, C, X, Y[, Z]) -> {level: (B, 256, ...)}, highest
    resolution first (MONAI's BackboneWithFPN)."""

    def __init__(self, backbone: nn.Module, spatial_dims: int, returned_layers: list[int]) -> None:
        super().__init__()
        from monai.networks.blocks.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool

        if not returned_layers or min(returned_layers) <= 0 or max(returned_layers) >= 5:
            raise ValueError(f"each returned layer should be in 1..4, not {returned_layers}")
        stage2 = backbone.in_planes // 8  # type: ignore[operator]  # MONAI: in_planes, not torchvision's inplanes
        self.body = LayerGetter(backbone, {f"layer{k}": str(v) for v, k in enumerate(returned_layers)})
        self.fpn = FeaturePyramidNetwork(spatial_dims=spatial_dims,
                                         in_channels_list=[stage2 * 2 ** (i - 1) for i in returned_layers],
                                         out_channels=FPN_CHANNELS, extra_blocks=LastLevelMaxPool(spatial_dims))
        self.out_channels = FPN_CHANNELS

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.fpn(self.body(x))
