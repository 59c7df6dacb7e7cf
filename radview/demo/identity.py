"""Synthetic patients: names, IDs, dates and UIDs, deterministic per seed, never real people."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

FAMILY_NAMES = ["PHANTOM", "SYNTHETIC", "DEMO", "TESTCASE", "MODEL", "SAMPLE", "REFERENCE", "SIMULATED"]
GIVEN_NAMES = ["ALEX", "SAM", "ROBIN", "KIM", "JO", "CHARLIE", "RILEY", "JAMIE", "MORGAN", "TAYLOR"]


@dataclass(frozen=True)
class SyntheticPatient:
    """Who a demo study belongs to. The name says 'PHANTOM'-like words so nobody mistakes it."""

    seed: int
    name: str
    patient_id: str
    birth_date: str
    sex: str
    age_years: int
    study_date: str

    def uid(self, *parts: object) -> str:
        """A UID fixed by the seed and `parts`: 2.25 + a 128-bit hash, as PS3.5 B.2 derives from a UUID.

        (pydicom's generate_uid ignores its entropy sources without a prefix, so it is not used.)
        """
        text = "/".join(["radview-demo", str(self.seed), *map(str, parts)])
        return "2.25." + str(int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big"))


def synthetic_patient(seed: int) -> SyntheticPatient:
    """A different synthetic patient for each seed."""
    rng = np.random.default_rng([seed, 7])
    age = int(rng.integers(38, 86))
    year = 2026 - age
    month, day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    study_month, study_day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    return SyntheticPatient(
        seed=seed,
        name=f"{FAMILY_NAMES[seed % len(FAMILY_NAMES)]}^{GIVEN_NAMES[int(rng.integers(len(GIVEN_NAMES)))]}",
        patient_id=f"RV{seed:06d}",
        birth_date=f"{year:04d}{month:02d}{day:02d}",
        sex="F" if rng.random() < 0.5 else "M",
        age_years=age,
        study_date=f"2026{study_month:02d}{study_day:02d}",
    )
