"""Hanging protocols: how a series is laid out when it opens, per kind of study.

A reader expects a chest CT, a brain MR and a chest radiograph to open differently: the layout,
the plane of each pane, the window and the slice each pane starts on. `protocol_kind` sorts a
series into one of KINDS from its modality, BodyPartExamined and description; the settings keep
one HangingProtocol per kind (radview.core.settings, `hanging_protocols`), starting from
DEFAULT_PROTOCOLS. Everything here is plain data and arithmetic, so the window, the tests and any
headless driver agree on where a series opens.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from radview.core.planes import Plane, plane_layout
from radview.core.volume import Volume
from radview.core.windowing import CT_PRESETS, WindowLevel

KINDS = ("chest-ct", "brain-mr", "chest-radiograph", "other")
KIND_NAMES = {"chest-ct": "chest CT", "brain-mr": "brain MR", "chest-radiograph": "chest radiograph",
              "other": "other series"}
LAYOUTS = ("1x1", "1x3", "2x2")
MIP_SLAB_MM = 10.0  # the "axial-mip" pane: a 10 mm axial maximum intensity projection, for nodule search
# the planes a pane can show, by the name a protocol uses: (plane, slab thickness in mm; 0 = one slice)
PANE_PLANES: dict[str, tuple[Plane, float]] = {
    "axial": (Plane.AXIAL, 0.0),
    "coronal": (Plane.CORONAL, 0.0),
    "sagittal": (Plane.SAGITTAL, 0.0),
    "axial-mip": (Plane.AXIAL, MIP_SLAB_MM),
}
PANES = 4
STANDARD_PLANES = ("axial", "coronal", "sagittal", "axial-mip")
# where each pane starts: the superior end of the axial stack (a chest read from the top down; the
# other planes start in the middle), the middle of every plane, or the first image as stored
STARTS = ("superior", "middle", "first")
DEFAULT_WINDOW = "default"  # the window stored in the images (or an automatic one)
WINDOWS = (DEFAULT_WINDOW, *(p.name for p in CT_PRESETS))

RADIOGRAPH_MODALITIES = ("CR", "DX")
_CHEST_WORDS = ("CHEST", "THORAX", "THORACIC", "LUNG", "THX")
_BRAIN_WORDS = ("BRAIN", "HEAD", "SKULL", "NEURO", "CEREBR")


@dataclass(frozen=True)
class HangingProtocol:
    """How one kind of series opens."""

    layout: str = "1x3"
    planes: tuple[str, ...] = STANDARD_PLANES  # one name of PANE_PLANES per pane, in pane order
    window: str = DEFAULT_WINDOW  # a CT preset's name (applies to CT only) or "default"
    start: str = "middle"
    acquired_plane_first: bool = False  # the plane the images were acquired in goes to the first pane

    def problems(self) -> list[str]:
        """What is wrong with this protocol, in words; empty when it can be used."""
        found = []
        if self.layout not in LAYOUTS:
            found.append(f"layout {self.layout!r} is not one of {', '.join(LAYOUTS)}")
        if len(self.planes) != PANES or any(p not in PANE_PLANES for p in self.planes):
            found.append(f"planes {list(self.planes)!r} must be {PANES} of {', '.join(PANE_PLANES)}")
        if self.window not in WINDOWS:
            found.append(f"window {self.window!r} is not one of {', '.join(WINDOWS)}")
        if self.start not in STARTS:
            found.append(f"start {self.start!r} is not one of {', '.join(STARTS)}")
        if not isinstance(self.acquired_plane_first, bool):
            found.append(f"acquired_plane_first {self.acquired_plane_first!r} is not true or false")
        return found

    def to_dict(self) -> dict:
        """The JSON form kept in the settings file."""
        data = asdict(self)
        data["planes"] = list(self.planes)
        return data

    @classmethod
    def from_dict(cls, data: object) -> HangingProtocol:
        """A protocol from its JSON form; missing fields take the defaults. ValueError says what is wrong."""
        if not isinstance(data, dict):
            raise ValueError(f"a protocol is an object of {', '.join(f.name for f in fields(cls))}, "
                             f"not {type(data).__name__}")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}")
        planes = data.get("planes", list(STANDARD_PLANES))
        if not isinstance(planes, list) or not all(isinstance(p, str) for p in planes):
            raise ValueError(f"planes {planes!r} is not a list of plane names")
        protocol = cls(**{**data, "planes": tuple(planes)})
        problems = protocol.problems()
        if problems:
            raise ValueError("; ".join(problems))
        return protocol

    # ----- applying it to a series -------------------------------------------------------------
    def pane_planes(self, volume: Volume) -> list[tuple[Plane, float]]:
        """(plane, slab mm) of each pane for `volume`; with acquired_plane_first, the acquired plane
        moves to the first pane (a sagittal MR then shows sagittal in 1x1 and first in 1x3)."""
        names = list(self.planes)
        if self.acquired_plane_first and volume.has_patient_geometry:
            acquired = acquisition_plane(volume).value
            if acquired in names:
                names.remove(acquired)
            names.insert(0, acquired)
            names = names[:PANES]
        return [PANE_PLANES[name] for name in names]

    def window_for(self, volume: Volume) -> WindowLevel | None:
        """The preset to show `volume` in, or None for the series' own default window. Presets are
        in HU, so they apply to CT only."""
        if self.window == DEFAULT_WINDOW or volume.modality != "CT":
            return None
        return next(p for p in CT_PRESETS if p.name == self.window)

    def start_index(self, volume: Volume, plane: Plane) -> int:
        """The slice of `plane` a pane starts on: never an empty edge slice of a reformat."""
        layout = plane_layout(volume, plane)
        count = layout.slice_count
        if count <= 1:
            return 0
        if self.start == "first" and plane is Plane.AXIAL:
            return 0
        if self.start == "superior" and plane is Plane.AXIAL:
            if not volume.has_patient_geometry:
                return 0  # no positions: nothing says which end is the top; the stored order it is
            # the stack may run either way (feet first or head first): the end higher in the patient
            return count - 1 if layout.normal @ np.array([0.0, 0.0, 1.0]) > 0 else 0
        return count // 2


DEFAULT_PROTOCOLS: dict[str, HangingProtocol] = {
    # a chest CT is read in the lung window from the lung apices down, with a 10 mm MIP beside the
    # three planes to find nodules
    "chest-ct": HangingProtocol("2x2", STANDARD_PLANES, "Lung", "superior"),
    # a brain MR: its acquired plane first, every plane in the middle of the brain
    "brain-mr": HangingProtocol("1x3", STANDARD_PLANES, DEFAULT_WINDOW, "middle", acquired_plane_first=True),
    # a radiograph is one image, fitted to the whole view area
    "chest-radiograph": HangingProtocol("1x1", STANDARD_PLANES, DEFAULT_WINDOW, "middle"),
    # anything else: the three planes through the middle of the series, in its own window
    "other": HangingProtocol("1x3", STANDARD_PLANES, DEFAULT_WINDOW, "middle"),
}


def default_protocol_dicts() -> dict[str, dict]:
    """The default protocols in the settings file's form (kind -> protocol dict)."""
    return {kind: protocol.to_dict() for kind, protocol in DEFAULT_PROTOCOLS.items()}


def _mentions(words: tuple[str, ...], *texts: str) -> bool:
    upper = " ".join(texts).upper()
    return any(word in upper for word in words)


def protocol_kind(volume: Volume) -> str:
    """Which kind of KINDS a series is, from its modality, body part and description."""
    modality = volume.modality.upper()
    texts = (volume.body_part, volume.series_description)
    if modality == "CT" and _mentions(_CHEST_WORDS, *texts):
        return "chest-ct"
    if modality == "MR" and _mentions(_BRAIN_WORDS, *texts):
        return "brain-mr"
    if modality in RADIOGRAPH_MODALITIES and _mentions(_CHEST_WORDS, *texts):
        return "chest-radiograph"
    return "other"


def acquisition_plane(volume: Volume) -> Plane:
    """The plane the images were acquired in: the one whose slices are the stored images."""
    return next(plane for plane in Plane if plane_layout(volume, plane).fixed_axis == 0)


def load_protocols(raw: object) -> tuple[dict[str, dict], list[str]]:
    """The protocols of a settings file, checked: (kind -> protocol dict for every kind, problems).

    A kind missing from the file gets its default; an unusable protocol is named and replaced by
    its default; a kind RadView does not know is named and left out."""
    protocols = default_protocol_dicts()
    if not isinstance(raw, dict):
        return protocols, [f"is not an object of kinds ({', '.join(KINDS)}) but {type(raw).__name__}"]
    problems = []
    for kind, data in raw.items():
        if kind not in KINDS:
            problems.append(f"kind {kind!r} is not one of {', '.join(KINDS)}; left out")
            continue
        try:
            protocols[kind] = HangingProtocol.from_dict(data).to_dict()
        except (TypeError, ValueError) as error:
            problems.append(f"the {KIND_NAMES[kind]} protocol: {error}; using the default")
    return protocols, problems

