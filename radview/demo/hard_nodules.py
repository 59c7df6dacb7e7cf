"""Hard-case nodules of the chest CT phantom (radview.demo.nodule_cases plans them): placed
where readers meet them (isolated, touching a vessel, touching the pleura), drawn solid,
part-solid or ground-glass with lobulated or spiculated margins, and the contacts each one
really has measured from the drawn voxels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from radview.demo.chest_ct_scene import (
    GROUND_GLASS_HU,
    SOLID_CORE_HU,
    SOLID_HU,
    ChestCT,
    Lung,
    PlantedNodule,
    Scene,
    anatomy,
    clear_of_mediastinum,
    measure_nodules,
    segment_box,
    segment_distance,
)
from radview.demo.nodule_cases import (
    NoduleCasePlan,
    NoduleSpec,
    size_band,
    sub_slice_offsets_mm,
)
from radview.demo.shapes import lumpy_radius, soft_inside


@dataclass
class _Look:
    """How a planned nodule is drawn."""

    hu: float  # the nodule's (a part-solid one's ground glass)
    solid_hu: float  # its solid core's and spicules'
    core_fraction: float  # solid core radius over the nodule's (part-solid), 0 otherwise
    amplitudes: np.ndarray  # lobulation (radius modulation per harmonic)
    phases: np.ndarray
    spicules: list[tuple[np.ndarray, np.ndarray, float]]  # (start, end, radius) mm, set once placed
    body_mm: float  # farthest the nodule's surface extends from its centre (lobulation included)
    reach_mm: float  # the same with its spicules


def _look(rng: np.random.Generator, spec: NoduleSpec) -> _Look:
    """Densities and margin of one planned nodule (spicules are aimed once it is placed)."""
    r = spec.diameter_mm / 2
    amplitude = {"smooth": (0.0, 0.04), "lobulated": (0.08, 0.15), "spiculated": (0.0, 0.06)}[spec.margin]
    amplitudes, phases = rng.uniform(*amplitude, 3), rng.uniform(0, 2 * np.pi, 3)
    ground_glass = rng.uniform(*GROUND_GLASS_HU)
    solid = rng.uniform(*SOLID_HU)
    hu = solid if spec.composition == "solid" else ground_glass
    core = rng.uniform(0.3, 0.6) if spec.composition == "part-solid" else 0.0
    body = r * (1 + float(amplitudes.sum()))
    reach = r * 2.2 if spec.margin == "spiculated" else body  # spicules end 0.5-1.2 radii beyond the surface
    return _Look(hu, solid if spec.composition == "solid" else SOLID_CORE_HU, core, amplitudes, phases, [], body,
                 max(body, reach))


def _spicules(rng: np.random.Generator, centre: np.ndarray, r: float) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Thin strands from inside the surface outward, 0.5-1.2 radii beyond it, in random 3D directions."""
    strands = []
    for _ in range(int(rng.integers(8, 17))):
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        strands.append((centre + direction * r * 0.7, centre + direction * r * (1 + rng.uniform(0.5, 1.2)),
                        float(rng.uniform(0.35, 0.6))))
    return strands


def _lung_at(lungs: list[Lung], centre: np.ndarray) -> tuple[Lung, float] | None:
    """(lung, normalised ellipse radius) of the lung holding the point, or None."""
    for lung in lungs:
        axes = lung.half_axes_at(float(centre[2]))
        if axes is None:
            continue
        rho = float(np.hypot((centre[0] - lung.cx) / axes[0], (centre[1] - lung.cy) / axes[1]))
        if rho < 1:
            return lung, rho
    return None


def _clear_of_pleura(lung: Lung, centre: np.ndarray, reach: float, margin_mm: float) -> bool:
    """The sphere of `reach` around centre stays margin_mm inside the lung, checked at its
    centre and near its top and bottom ((1 - rho) * min axis underestimates the distance to an
    ellipse's edge, so the test errs on the safe side)."""
    for f in (-0.7, 0.0, 0.7):
        z = float(centre[2]) + f * reach
        axes = lung.half_axes_at(z)
        if axes is None:
            return False
        rho = np.hypot((centre[0] - lung.cx) / axes[0], (centre[1] - lung.cy) / axes[1])
        if (1 - rho) * min(axes) < reach * np.sqrt(1 - f * f) + margin_mm:
            return False
    return True


def _vessels_near(vessels: list, centre: np.ndarray, reach: float) -> list[int]:
    """Indices of vessel segments that come within 1.5 mm of the sphere of `reach` around centre."""
    near = []
    for i, (start, end, radius) in enumerate(vessels):
        ab = end - start
        t = float(np.clip((centre - start) @ ab / float(ab @ ab), 0, 1))
        if np.linalg.norm(centre - start - t * ab) < reach + radius + 1.5:
            near.append(i)
    return near


def _isolated_centre(rng: np.random.Generator, lung: Lung, z: float, reach: float, vessels: list) -> np.ndarray | None:
    """Of a few points well inside a lung, the one with the least vessel in the way (those
    vessels are then removed: the nodule has pushed them aside)."""
    best, best_cost = None, np.inf
    for _ in range(12):
        axes = lung.half_axes_at(z)
        if axes is None:
            continue
        angle, frac = rng.uniform(0, 2 * np.pi), np.sqrt(rng.uniform(0, 0.8))
        centre = np.array([lung.cx + np.cos(angle) * axes[0] * frac, lung.cy + np.sin(angle) * axes[1] * frac, z])
        if not _clear_of_pleura(lung, centre, reach, 3.0):
            continue
        cost = sum(vessels[i][2] ** 2 for i in _vessels_near(vessels, centre, reach))
        if cost < best_cost:
            best, best_cost = centre, cost
    return best


def _juxtavascular_centre(rng: np.random.Generator, lungs: list[Lung], r: float, reach: float,
                          vessels: list) -> np.ndarray | None:
    """Beside or across a 1-3 mm vessel: the centre within (radius + vessel radius) of its axis."""
    usable = [v for v in vessels if 0.9 <= v[2] <= 3.0]
    if not usable:
        return None
    start, end, radius = usable[int(rng.integers(len(usable)))]
    axis = end - start
    point = start + rng.uniform(0.2, 0.8) * axis
    across = rng.normal(size=3)
    across -= (across @ axis) / float(axis @ axis) * axis
    across /= np.linalg.norm(across)
    centre = point + across * rng.uniform(0.0, 0.8) * (r + radius)  # 0.8: overlaps by a fifth at least
    held = _lung_at(lungs, centre)
    return centre if held is not None and _clear_of_pleura(held[0], centre, reach, 3.0) else None


def _juxtapleural_centre(rng: np.random.Generator, lung: Lung, z: float, r: float, spacing: float) -> np.ndarray | None:
    """Against the costal pleura (anterior, lateral or posterior): the nodule crosses the lung's
    edge by a fifth of its radius (at least 1.5 pixels, so it touches in the voxels); the chest
    wall cuts it there."""
    axes = lung.half_axes_at(z)
    if axes is None or min(axes) < 1.2 * r or any(lung.half_axes_at(z + f * r) is None for f in (-0.7, 0.7)):
        return None
    theta = (0.0 if lung.cx > 0 else np.pi) + rng.uniform(-1.9, 1.9)  # away from the mediastinum
    a, b = axes
    normal = np.array([np.cos(theta) / a, np.sin(theta) / b])
    normal /= np.linalg.norm(normal)
    depth = r - min(0.5 * r, max(0.2 * r, 1.5 * spacing))
    return np.array([lung.cx + a * np.cos(theta) - normal[0] * depth, lung.cy + b * np.sin(theta) - normal[1] * depth, z])


def place_planned(rng: np.random.Generator, plan: NoduleCasePlan, lungs: list[Lung], vessels: list,
                   z_range: tuple[float, float], spacing: float) -> tuple[list[PlantedNodule], list[_Look], list]:
    """Place the plan's nodules (isolated first: they clear vessels away; then juxtavascular,
    then juxtapleural; larger first), apart from each other. A nodule with no room is left out.
    Spicules may reach the pleura or a vessel (pleural tags): only the body is kept clear.
    Returns the nodules, how each is drawn, and the vessels that remain."""
    order = sorted(plan.nodules, key=lambda s: (("isolated", "juxtavascular", "juxtapleural").index(s.location), -s.diameter_mm))
    vessels = list(vessels)
    placed: list[tuple[PlantedNodule, _Look]] = []
    for spec in order:
        look, r = _look(rng, spec), spec.diameter_mm / 2
        body = look.body_mm
        for _ in range(300):
            lung = lungs[int(rng.integers(2))]
            z_low = max(z_range[0], lung.z_base) + body + 8
            z_high = min(z_range[1], lung.z_apex) - body - 15  # the apex is a narrow dome
            if z_low >= z_high:
                continue
            z = rng.uniform(z_low, z_high)
            if spec.location == "isolated":
                centre = _isolated_centre(rng, lung, z, body, vessels)
            elif spec.location == "juxtavascular":
                centre = _juxtavascular_centre(rng, lungs, r, body, vessels)
            else:
                centre = _juxtapleural_centre(rng, lung, z, r, spacing)
            if centre is None or not z_range[0] + body + 3 <= centre[2] <= z_range[1] - body - 3 \
                    or not clear_of_mediastinum(centre, body, *z_range):
                continue
            if any(np.linalg.norm(centre - np.array(n.centre_mm)) < body + other.body_mm + 5 for n, other in placed):
                continue
            if spec.location == "isolated":
                near = set(_vessels_near(vessels, centre, body))
                vessels = [v for i, v in enumerate(vessels) if i not in near]
            placed.append((_planted(spec, centre, lungs, look), look))
            if spec.margin == "spiculated":
                look.spicules = _spicules(rng, centre, r)
            break
    return [n for n, _ in placed], [look for _, look in placed], vessels


def _planted(spec: NoduleSpec, centre: np.ndarray, lungs: list[Lung], look: _Look) -> PlantedNodule:
    """The ground truth of a placed nodule (its location is measured once drawn)."""
    held = _lung_at(lungs, centre)
    lung = held[0] if held is not None else min(lungs, key=lambda g: abs(g.cx - centre[0]))
    zone = "upper" if centre[2] > (lung.z_base + lung.z_apex) / 2 else "lower"
    solid = {"solid": spec.diameter_mm, "part-solid": round(spec.diameter_mm * look.core_fraction, 1)}
    return PlantedNodule(
        (round(float(centre[0]), 2), round(float(centre[1]), 2), round(float(centre[2]), 2)), (0, 0, 0),
        spec.diameter_mm, spec.composition, solid.get(spec.composition, 0.0), lung.side, zone,
        composition=spec.composition, margin=spec.margin, size_band=size_band(spec.diameter_mm))


def draw_planned(scene: Scene, rng: np.random.Generator, plan: NoduleCasePlan, slices: int, slice_spacing: float,
                  noise_hu: float, nodules: list[PlantedNodule], looks: list[_Look], tilt_deg: float) -> ChestCT:
    """Draw a hard case slice by slice: each slice the mean of samples across its thickness
    (partial volume along z), the labels from its centre; then measure where each nodule lies."""
    size, origin_z = scene.size, scene.origin[2]
    offsets = sub_slice_offsets_mm(plan.slice_thickness_mm)
    hu = np.empty((slices, size, size), np.int16)
    lung_labels = np.zeros((slices, size, size), np.uint8)
    nodule_labels = np.zeros((slices, size, size), np.uint8)
    touching_vessel: set[int] = set()
    for k in range(slices):
        total = np.zeros((size, size), np.float32)
        for i, offset in enumerate(offsets):
            z = origin_z + k * slice_spacing + offset
            vessel = np.zeros((size, size), np.float32)
            img, lung_here, lung_label, yk = anatomy(scene, z, rng, vessel)
            labels = _paint_planned(scene, img, z, yk, lung_here, nodules, looks)
            if i == len(offsets) // 2:
                lung_labels[k], nodule_labels[k] = lung_label, labels
                touching_vessel |= _vessel_contacts(labels, vessel)
            total += img
        img = total / len(offsets) + rng.standard_normal((size, size), dtype=np.float32) * np.float32(noise_hu)
        hu[k] = np.clip(img, -1024, 3071)
    measure_nodules(nodules, nodule_labels, scene.spacing, slice_spacing, scene.origin)
    pleura = _pleura_contacts(nodule_labels, lung_labels)
    for nodule in nodules:
        nodule.touches_pleura, nodule.touches_vessel = nodule.label in pleura, nodule.label in touching_vessel
        # one location per nodule, pleura first (a nodule on the wall is read as juxtapleural)
        nodule.location = "juxtapleural" if nodule.touches_pleura else "juxtavascular" if nodule.touches_vessel else "isolated"
    return ChestCT(hu, lung_labels, nodule_labels, scene.spacing, slice_spacing, scene.origin, nodules, tilt_deg,
                   slice_thickness_mm=plan.slice_thickness_mm, dose=plan.dose, noise_hu=plan.noise_hu)


def _paint_planned(scene: Scene, img: np.ndarray, z: float, yk: np.ndarray, lung_here: np.ndarray,
                   nodules: list[PlantedNodule], looks: list[_Look]) -> np.ndarray:
    """Draw the planned nodules into one slice's image; returns the slice's nodule labels.
    Densities only rise (max): vessels brighter than a nodule stay visible through it, as they
    do through ground glass; the lung fraction bounds each nodule, so the chest wall cuts a
    juxtapleural one."""
    spacing, origin, size = scene.spacing, scene.origin, scene.size
    labels = np.zeros(img.shape, np.uint8)
    for label, (nodule, look) in enumerate(zip(nodules, looks), start=1):
        centre = np.asarray(nodule.centre_mm)
        dz = z - centre[2]
        if abs(dz) > look.reach_mm + 1:
            continue
        box = segment_box(centre, centre, look.reach_mm + 2 * spacing, origin, spacing, size, scene.shear * (z - origin[2]))
        if box is None:
            continue
        target, lung = img[box], lung_here[box]
        for start, end, radius in look.spicules:  # strands first: the body then covers their roots
            if min(start[2], end[2]) - radius <= z <= max(start[2], end[2]) + radius:
                strand = soft_inside(segment_distance(scene.x[:, box[1]], yk[box[0]], z, start, end) - radius, spacing)
                target += strand * lung * np.maximum(look.solid_hu - target, 0)
        r = nodule.diameter_mm / 2
        if abs(dz) > r * (1 + float(look.amplitudes.sum())) + spacing:
            continue
        dx, dy = scene.x[:, box[1]] - centre[0], yk[box[0]] - centre[1]
        rad = lumpy_radius(np.arctan2(dy, dx), r, look.amplitudes, look.phases)
        dist = np.sqrt(dx**2 + dy**2 + dz**2)
        outer = soft_inside(dist - rad, spacing) * lung
        target += outer * np.maximum(look.hu - target, 0)
        if look.core_fraction:
            core = soft_inside(dist - rad * look.core_fraction, spacing) * lung
            target += core * np.maximum(look.solid_hu - target, 0)
        labels[box][outer >= 0.5] = label
    return labels


def _vessel_contacts(labels: np.ndarray, vessel: np.ndarray) -> set[int]:
    """Nodule labels of one slice with a vessel pixel (fraction >= 0.5) in or next to them."""
    found = set()
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        grown = tuple(slice(max(0, s.start - 1), s.stop + 1) for s in box)
        near = ndimage.binary_dilation(labels[grown] == index, np.ones((3, 3), bool))
        if (vessel[grown][near] >= 0.5).any():
            found.add(index)
    return found


def _pleura_contacts(nodule_labels: np.ndarray, lung_labels: np.ndarray) -> set[int]:
    """Nodule labels with a voxel next to one outside the lungs (the pleura, in 6-connectivity)."""
    found = set()
    for index, box in enumerate(ndimage.find_objects(nodule_labels), start=1):
        if box is None:
            continue
        grown = tuple(slice(max(0, s.start - 1), s.stop + 1) for s in box)
        mask = nodule_labels[grown] == index
        rim = ndimage.binary_dilation(mask) & ~mask
        if (lung_labels[grown][rim] == 0).any():
            found.add(index)
    return found

