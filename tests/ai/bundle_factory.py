"""MONAI bundles in the Model Zoo's exact layout, with small random weights (nothing downloaded),
and a small CT volume and DICOM series to run them on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from radview.core.volume import Volume

SPACING = [1.5, 1.5, 2.0]


def _write(folder: Path, metadata: dict, inference: dict) -> Path:
    (folder / "configs").mkdir(parents=True, exist_ok=True)
    (folder / "models").mkdir(exist_ok=True)
    (folder / "docs").mkdir(exist_ok=True)
    (folder / "configs" / "metadata.json").write_text(json.dumps(metadata, indent=2))
    (folder / "configs" / "inference.json").write_text(json.dumps(inference, indent=2))
    (folder / "docs" / "README.md").write_text("A test bundle.\n")
    return folder


def _zoo_common() -> dict:
    """Entries every zoo inference.json has and RadView never reads (some would run code in MONAI)."""
    return {
        "imports": ["$import glob", "$import os"],
        "bundle_root": ".",
        "output_dir": "$@bundle_root + '/eval'",
        "dataset_dir": "/workspace/data",
        "datalist": "$list(sorted(glob.glob(@dataset_dir + '/imagesTs/*.nii.gz')))",
        "device": "$torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')",
        "network": "$@network_def.to(@device)",
        "dataset": {"_target_": "Dataset", "data": "$[{'image': i} for i in @datalist]", "transform": "@preprocessing"},
        "initialize": ["$monai.utils.set_determinism(seed=123)"],
        "run": ["$@evaluator.run()"],
    }


def segmentation_bundle(folder: Path, **changes) -> Path:
    """A spleen_ct_segmentation-like bundle: 3D UNet, RAS orientation, 1.5x1.5x2 mm, CT window,
    sliding window, softmax, invert, argmax. Its last layer is biased to label 1 (the organ), so a
    run from random weights finds one segment; nothing is trained."""
    import torch
    from monai.networks.nets import UNet

    inference = {
        **_zoo_common(),
        "network_def": {"_target_": "UNet", "spatial_dims": 3, "in_channels": 1, "out_channels": 2,
                        "channels": [4, 8], "strides": [2], "num_res_units": 0, "norm": "batch"},
        "preprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "LoadImaged", "keys": "image"},
            {"_target_": "EnsureChannelFirstd", "keys": "image"},
            {"_target_": "Orientationd", "keys": "image", "axcodes": "RAS"},
            {"_target_": "Spacingd", "keys": "image", "pixdim": SPACING, "mode": "bilinear"},
            {"_target_": "ScaleIntensityRanged", "keys": "image", "a_min": -57, "a_max": 164, "b_min": 0.0,
             "b_max": 1.0, "clip": True},
            {"_target_": "EnsureTyped", "keys": "image"}]},
        "inferer": {"_target_": "SlidingWindowInferer", "roi_size": [16, 16, 8], "sw_batch_size": 2, "overlap": 0.25},
        "postprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "Activationsd", "keys": "pred", "softmax": True},
            {"_target_": "Invertd", "keys": "pred", "transform": "@preprocessing", "orig_keys": "image",
             "nearest_interp": False, "to_tensor": True},
            {"_target_": "AsDiscreted", "keys": "pred", "argmax": True},
            {"_target_": "SaveImaged", "keys": "pred", "output_dir": "@output_dir", "output_postfix": "seg"}]},
        "evaluator": {"_target_": "SupervisedEvaluator", "device": "@device", "network": "@network"},
    }
    inference.update(changes.pop("inference", {}))
    metadata = {
        "schema": "https://github.com/Project-MONAI/MONAI-extra-test-data/releases/download/0.8.1/meta_schema_20220324.json",
        "version": "0.5.2", "monai_version": "1.3.0", "pytorch_version": "2.1.0", "name": "Spleen CT segmentation",
        "task": "Decathlon spleen segmentation", "description": "A pre-trained model for volumetric (3D) segmentation "
        "of the spleen from CT image", "authors": "MONAI team", "copyright": "Copyright (c) MONAI Consortium",
        "data_source": "Task09_Spleen.tar from http://medicaldecathlon.com/", "data_type": "nibabel",
        "intended_use": "This is an example, not to be used for diagnostic purposes",
        "eval_metrics": {"mean_dice": 0.961},
        "network_data_format": {
            "inputs": {"image": {"type": "image", "format": "hounsfield", "modality": "CT", "num_channels": 1,
                                 "spatial_shape": [96, 96, 96], "dtype": "float32", "value_range": [0, 1],
                                 "is_patch_data": True, "channel_def": {"0": "image"}}},
            "outputs": {"pred": {"type": "image", "format": "segmentation", "num_channels": 2,
                                 "spatial_shape": [96, 96, 96], "dtype": "float32", "value_range": [0, 1],
                                 "is_patch_data": True, "channel_def": {"0": "background", "1": "spleen"}}}},
    }
    metadata.update(changes.pop("metadata", {}))
    _write(folder, metadata, inference)
    torch.manual_seed(0)
    network = UNet(**{k: v for k, v in inference["network_def"].items() if k != "_target_"}) \
        if inference["network_def"].get("_target_") == "UNet" else None
    if network is not None:
        with torch.no_grad():  # the last layer says "organ" everywhere (a segment to find, not a trained model)
            last = [m for m in network.modules() if isinstance(m, torch.nn.ConvTranspose3d | torch.nn.Conv3d)][-1]
            last.weight.mul_(0.01)
            last.bias.copy_(torch.tensor([-2.0, 2.0]))
        network.eval()
        torch.save(network.state_dict(), folder / "models" / "model.pt")
    return folder


def detection_bundle(folder: Path) -> Path:
    """A lung_nodule_ct_detection-like bundle: RetinaNet on a ResNet backbone given as the zoo gives
    it (`$` calls with literal arguments), anchors, detector settings through detector_ops."""
    import torch
    from monai.apps.detection.networks.retinanet_network import RetinaNet
    from monai.networks.nets.resnet import ResNet

    from radview.ai.bundle_fpn import ResNetFPN

    inference = {
        **_zoo_common(),
        "spatial_dims": 3, "num_classes": 1, "size_divisible": [16, 16, 8], "infer_patch_size": [32, 32, 16],
        "anchor_generator": {"_target_": "monai.apps.detection.utils.anchor_utils.AnchorGeneratorWithAnchorShape",
                             "feature_map_scales": [1, 2], "base_anchor_shapes": [[6, 8, 4], [8, 6, 5], [10, 10, 6]]},
        "backbone": "$monai.networks.nets.resnet.ResNet(block='basic', layers=[1, 1, 1, 1], block_inplanes=[4, 8, 16, 32], "
                    "spatial_dims=3, n_input_channels=1, conv1_t_stride=[2, 2, 1], conv1_t_size=[7, 7, 7])",
        "feature_extractor": "$monai.apps.detection.networks.retinanet_network.resnet_fpn_feature_extractor(@backbone, 3, "
                             "False, [1], None)",
        "network_def": {"_target_": "RetinaNet", "spatial_dims": "@spatial_dims", "num_classes": "@num_classes",
                        "num_anchors": 3, "feature_extractor": "@feature_extractor", "size_divisible": "@size_divisible"},
        "detector": {"_target_": "RetinaNetDetector", "network": "@network", "anchor_generator": "@anchor_generator",
                     "debug": False, "spatial_dims": "@spatial_dims", "num_classes": "@num_classes",
                     "size_divisible": "@size_divisible"},
        "detector_ops": ["$@detector.set_target_keys(box_key='box', label_key='label')",
                         "$@detector.set_box_selector_parameters(score_thresh=0.02,topk_candidates_per_level=100,"
                         "nms_thresh=0.22,detections_per_img=3)",
                         "$@detector.set_sliding_window_inferer(roi_size=@infer_patch_size,overlap=0.25,sw_batch_size=1,"
                         "mode='constant',device='cpu')"],
        "preprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "LoadImaged", "keys": "image", "image_only": False, "reader": "itkreader", "affine_lps_to_ras": True},
            {"_target_": "EnsureChannelFirstd", "keys": "image"},
            {"_target_": "Orientationd", "keys": "image", "axcodes": "RAS"},
            {"_target_": "Spacingd", "keys": "image", "pixdim": SPACING},
            {"_target_": "ScaleIntensityRanged", "keys": "image", "a_min": -1024.0, "a_max": 300.0, "b_min": 0.0,
             "b_max": 1.0, "clip": True},
            {"_target_": "EnsureTyped", "keys": "image"}]},
        "inferer": {"_target_": "scripts.detection_inferer.RetinaNetInferer", "detector": "@detector"},
        "postprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "ClipBoxToImaged", "box_keys": "box", "label_keys": "label", "box_ref_image_keys": "image",
             "remove_empty": True},
            {"_target_": "AffineBoxToWorldCoordinated", "box_keys": "box", "box_ref_image_keys": "image",
             "affine_lps_to_ras": True},
            {"_target_": "ConvertBoxModed", "box_keys": "box", "src_mode": "xyzxyz", "dst_mode": "cccwhd"},
            {"_target_": "DeleteItemsd", "keys": ["image"]}]},
    }
    metadata = {
        "version": "0.6.9", "name": "Lung nodule CT detection", "authors": "MONAI team",
        "task": "CT lung nodule detection", "description": "A pre-trained model for 3D detection of lung nodules from CT",
        "copyright": "Copyright (c) MONAI Consortium", "intended_use": "This is an example, not for diagnosis",
        "eval_metrics": {"mAP_IoU_0.10_0.50_0.05_MaxDet_100": 0.852, "mAR_IoU_0.10_0.50_0.05_MaxDet_100": 0.998},
        "network_data_format": {
            "inputs": {"image": {"type": "image", "format": "hounsfield", "modality": "CT", "num_channels": 1,
                                 "spatial_shape": [192, 192, 80], "dtype": "float16", "value_range": [-1024, 300]}},
            "outputs": {"pred": {"type": "object", "format": "bbox", "dtype": "float16", "num_channels": 7,
                                 "spatial_shape": ["n", 7], "value_range": [-10000, 10000],
                                 "channel_def": {"0": "class", "1": "x", "2": "y", "3": "z", "4": "w", "5": "h",
                                                 "6": "d", "7": "label_scores"}}}},
    }
    _write(folder, metadata, inference)
    torch.manual_seed(0)
    backbone = ResNet(block="basic", layers=[1, 1, 1, 1], block_inplanes=[4, 8, 16, 32], spatial_dims=3,
                      n_input_channels=1, conv1_t_stride=(2, 2, 1), conv1_t_size=(7, 7, 7))
    # what MONAI's resnet_fpn_feature_extractor(backbone, 3, False, [1], None) builds (it needs torchvision here)
    network = RetinaNet(3, 1, 3, ResNetFPN(backbone, 3, [1]), [16, 16, 8])
    with torch.no_grad():  # confident everywhere, so the detector returns boxes from random weights
        network.classification_head.cls_logits.bias.fill_(3.0)
    torch.save(network.state_dict(), folder / "models" / "model.pt")
    return folder


def radview_volume(shape: tuple[int, int, int] = (12, 24, 28)) -> Volume:
    """A small axial CT: air at -1000 HU with a 40 HU block (rows 6-14, cols 8-18, slices 3-8)."""
    voxels = np.full(shape, -1000.0, np.float32)
    voxels[3:9, 6:15, 8:19] = 40.0
    return Volume(voxels, pixel_spacing_mm=(1.5, 1.5), slice_spacing_mm=2.0, origin_mm=np.array([-20.0, -18.0, 50.0]),
                  modality="CT", value_unit="HU", series_instance_uid="1.2.826.0.1.3680043.10.511.1.1",
                  study_instance_uid="1.2.826.0.1.3680043.10.511.1", body_part="ABDOMEN")
