"""Shared fixtures: the demo phantom study, and real files from pydicom's test corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from radview.demo.writer import write_demo_studies
from radview.dicom.scan import shutdown_worker_pool


def real_file(name: str) -> Path:
    """A file of pydicom's test data (or the pydicom-data package), never downloaded."""
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    if path is None:
        raise FileNotFoundError(f"{name} is not among pydicom's installed test files")
    return Path(path)


@pytest.fixture(scope="session")
def demo_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seed 0 phantoms, written once per test session; returns the output folder."""
    out = tmp_path_factory.mktemp("demo")
    write_demo_studies(out, seed=0)
    return out


@pytest.fixture(scope="session", autouse=True)
def _stop_workers():
    yield
    shutdown_worker_pool()

