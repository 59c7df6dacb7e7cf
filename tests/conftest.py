"""Shared fixtures: the demo phantom study, and real files from pydicom's test corpus."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Modules that bind a patched function by name (`from radview.ai.engine import run_model`) are
# imported here, before any test patches it: one first imported while a patch is active would keep
# the fake for the rest of the worker's tests.
import radview.ai.benchmark  # noqa: F401
import radview.ai.conformance_training  # noqa: F401
import radview.ai.evaluate  # noqa: F401
import radview.ai.nodule_fp_training  # noqa: F401
import radview.ai.train  # noqa: F401
from radview.demo.writer import write_demo_studies
from radview.dicom.scan import shutdown_worker_pool


def radview_command(home: Path, *args: str) -> subprocess.CompletedProcess:
    """`radview ARGS` in a fresh process with its own RADVIEW_HOME."""
    env = {**os.environ, "RADVIEW_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "radview", *args], capture_output=True, text=True, env=env, timeout=600)


def copy_into_cache(demo_study: Path, names: tuple[str, ...], cache: Path) -> None:
    """Demo series laid out as a PACS retrieve leaves them: <cache>/<study>/<series>/<file>.dcm."""
    import shutil

    import pydicom

    for name in names:
        files = sorted((demo_study / "dicom" / name).iterdir())
        ds = pydicom.dcmread(files[0], stop_before_pixels=True)
        target = cache / ds.StudyInstanceUID / ds.SeriesInstanceUID
        target.mkdir(parents=True)
        for f in files:
            shutil.copy(f, target / f"{f.name}.dcm")


def real_file(name: str) -> Path:
    """A file of pydicom's test data (or the pydicom-data package), never downloaded."""
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    if path is None:
        raise FileNotFoundError(f"{name} is not among pydicom's installed test files")
    return Path(path)


@pytest.fixture(scope="session", autouse=True)
def _private_radview_home(tmp_path_factory: pytest.TempPathFactory):
    """Every test writes settings, the audit key, PACS secrets and workspaces under a temporary
    RADVIEW_HOME, never into the account running the tests (a test may set its own)."""
    home = tmp_path_factory.mktemp("radview-home")
    # and no secret of a test reaches the developer's own keyring: the fallback file is used
    saved = {name: os.environ.get(name) for name in ("RADVIEW_HOME", "PYTHON_KEYRING_BACKEND")}
    os.environ["RADVIEW_HOME"] = str(home)
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    yield home
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def demo_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seed 0 phantoms, written once per test session; returns the output folder."""
    out = tmp_path_factory.mktemp("demo")
    write_demo_studies(out, seed=0)
    return out


@pytest.fixture(scope="session")
def planted_ct(demo_study):
    """The demo CT scanned and loaded once, and a fixed ct-nodule result on it (tests/fixed_results.py)."""
    from radview.workflow.study_opening import load_stack, reading_stack, scan, series_stacks
    from tests.fixed_results import planted_nodule_result

    index = scan(demo_study / "dicom" / "chest-ct")
    series = index.patients[0].studies[0].series[0]
    volume = load_stack(reading_stack(series_stacks(series)))
    return index, series, volume, planted_nodule_result(demo_study, volume)


@pytest.fixture
def fixed_ct_model(planted_ct, monkeypatch):
    """The window's model runs compute the fixed ct-nodule result instead of running the network
    (every other step of a run is real); returns that result."""
    result = planted_ct[3]

    def compute(request, volume, *args, **kwargs):
        assert request.model_id == "ct-nodule" and volume.series_instance_uid == result.findings[0].series_instance_uid
        return result

    monkeypatch.setattr("radview.gui.model_runs.compute", compute)
    return result


@pytest.fixture(scope="session")
def analyzed_dicom(demo_study, tmp_path_factory):
    """`radview analyze --accept-all --dicom` over the three demo studies (CT, MR, radiograph)."""
    home, out = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("out")
    done = radview_command(home, "analyze", str(demo_study / "dicom"), "--out", str(out), "--accept-all", "--dicom",
                    "--reader", "Dr Test")
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="session", autouse=True)
def _stop_workers():
    yield
    shutdown_worker_pool(kill=True)


@pytest.fixture(scope="session", autouse=True)
def _fatal_error_log():
    """A crash in native code (a segfault, an abort) writes every thread's stack to
    test-artifacts/fatal-<worker>.log: a CI log keeps only its tail, which would lose the top of
    the stack on stderr (.ci/run prints the start of these files when the tests fail)."""
    import faulthandler

    folder = Path(__file__).resolve().parents[1] / "test-artifacts"
    folder.mkdir(exist_ok=True)
    name = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(folder / f"fatal-{name}.log", "w") as log:
        faulthandler.enable(file=log, all_threads=True)
        yield
        faulthandler.enable(file=sys.stderr, all_threads=True)

