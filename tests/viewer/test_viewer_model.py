"""The viewer's Qt-free state: events, layers and measurements per series, and one plane's maps
between view mm, voxels and patient mm."""

from __future__ import annotations

import numpy as np

from radview.core.measurements import Measurement, MeasurementKind
from radview.core.overlays import LabelLayer, Marker, MarkerLayer
from radview.core.planes import Plane
from radview.core.volume import Volume
from radview.core.windowing import WindowLevel
from radview.viewer.model import ViewerModel
from radview.viewer.plane_view import PlaneView


def _volume(uid: str) -> Volume:
    voxels = np.arange(10 * 20 * 30, dtype=np.float32).reshape(10, 20, 30)
    return Volume(voxels, pixel_spacing_mm=(0.5, 0.8), slice_spacing_mm=2.0, origin_mm=np.array([-10.0, -20.0, 50.0]),
                  modality="CT", value_unit="HU", window_center=40, window_width=400, series_instance_uid=uid)


def test_layers_and_measurements_stay_with_their_series_and_every_change_is_an_event():
    model, events = ViewerModel(), []
    for name in ("layers_changed", "measurements_changed", "window_changed", "volume_changed"):
        getattr(model, name).connect(lambda *args, name=name: events.append(name))
    ct, mr = _volume("1.2.3"), _volume("1.2.4")
    model.show_volume(ct)
    mask = LabelLayer("mask", ct.series_instance_uid, np.zeros(ct.shape, np.uint8), {})
    flags = MarkerLayer("flags", ct.series_instance_uid, [Marker("n1", np.array([0.0, 0.0, 54.0]), 6.0, "Nodule")])
    model.add_layer(mask)
    model.add_layer(flags)
    ruler = Measurement(MeasurementKind.DISTANCE, ct.series_instance_uid, np.zeros((2, 3)))
    model.add_measurement(ruler)
    model.set_window(WindowLevel(1500, -600, "Lung"))
    assert model.layers() == [mask, flags] and model.selected_measurement == ruler.id

    model.show_volume(mr)
    assert model.layers() == [] and model.series_measurements() == [] and model.window.name == "Default"
    model.show_volume(ct)
    assert model.layers() == [mask, flags] and model.series_measurements() == [ruler]
    assert model.find_marker("n1").size_mm == 6.0
    model.remove_layers([flags])
    assert model.layers() == [mask]
    assert events == ["volume_changed", "layers_changed", "layers_changed", "measurements_changed", "window_changed",
                      "volume_changed", "volume_changed", "layers_changed"]


def test_a_plane_maps_view_mm_to_voxels_and_back_and_reads_the_value_under_the_cursor():
    volume = _volume("1.2.3")
    axial, coronal = PlaneView(Plane.AXIAL), PlaneView(Plane.CORONAL)
    axial.set_volume(volume)
    coronal.set_volume(volume)
    assert axial.index == 0 and coronal.index == coronal.slice_count // 2  # reformats start in the middle
    axial.index = 4
    point = volume.voxel_to_patient_mm(np.array([4.0, 7.0, 12.0]))
    x, y, depth = axial.lps_to_view(point)
    assert depth == 4.0 and np.allclose(axial.view_to_voxel(x, y), [4.0, 7.0, 12.0])
    assert axial.slice_through(point) == 4 and coronal.slice_through(point) == 7
    text = axial.cursor_readout(x, y, "HU")
    assert text.startswith(f"[12, 7, 4]  {volume.voxels[4, 7, 12]:.0f} HU")
    assert axial.cursor_readout(-1000.0, -1000.0) is None
    assert axial.location_mm() is not None and axial.mm_per_image_pixel() == 0.8
