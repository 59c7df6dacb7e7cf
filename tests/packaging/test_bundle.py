"""The packaged application: PyInstaller builds it, its self-test passes under Xvfb with no
network, the .desktop entry validates and installs. Costs about 3-4 minutes of CI (the build)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is needed (packaging/debian-packages.sh installs it)")
    return path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("pyinstaller")
    done = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                           "--distpath", str(work / "dist"), "--workpath", str(work / "build"),
                           str(ROOT / "packaging" / "radview.spec")], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-4000:]
    return work / "dist" / "RadView"


def test_the_bundle_carries_models_resources_and_decoders(bundle):
    internal = bundle / "_internal"
    assert os.access(bundle / "radview", os.X_OK)
    for model in ("ct-nodule", "cxr-nodule", "mr-brain-tumor"):
        assert (internal / "models" / model / "weights.safetensors").is_file()
    assert {p.name for p in (internal / "resources").iterdir()} >= {"radview.png", "radview.svg", "theme.qss"}
    assert list(internal.glob("_gdcm/_gdcmswig*.so")) and list(internal.glob("_openjpeg*.so"))


def test_the_frozen_app_decodes_compressed_dicom(bundle, tmp_path):
    """JPEG 2000 (OpenJPEG/gdcm), JPEG lossless (gdcm) and RLE (pylibjpeg-rle) from pydicom's corpus."""
    from tests.conftest import real_file

    for n, name in enumerate(("MR_small_jp2klossless.dcm", "JPEG-LL.dcm", "MR_small_RLE.dcm")):
        folder = tmp_path / f"in{n}"
        folder.mkdir()
        shutil.copy(real_file(name), folder / name)
        done = subprocess.run([str(bundle / "radview"), "convert", str(folder), str(tmp_path / f"out{n}")],
                              capture_output=True, text=True, timeout=300, env={**os.environ, "RADVIEW_HOME": str(tmp_path)})
        assert done.returncode == 0 and list((tmp_path / f"out{n}").glob("*.nii*")), (name, done.stdout, done.stderr)


def test_the_frozen_self_test_passes_under_xvfb_without_network(bundle, tmp_path):
    command = [_need("unshare"), "-rn", _need("xvfb-run"), "-a", "-s", "-screen 0 1600x1000x24",
               str(bundle / "radview"), "--self-test", "--self-test-keep", str(tmp_path / "self-test")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, env={
        k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "window shown (xcb)" in done.stdout and "PASSED" in done.stdout
    assert (tmp_path / "self-test" / "self-test-report.pdf").read_bytes().startswith(b"%PDF")


def test_the_frozen_doctor_finds_everything(bundle, tmp_path):
    done = subprocess.run([str(bundle / "radview"), "doctor", "--quick"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "RADVIEW_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(packaged)" in done.stdout and "mr-brain-tumor 1.0.0" in done.stdout and "Problems: none" in done.stdout


def test_the_desktop_entry_validates_and_installs(bundle, tmp_path):
    validate = _need("desktop-file-validate")
    assert subprocess.run([validate, str(ROOT / "packaging" / "radview.desktop")], capture_output=True).returncode == 0
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "share")}
    done = subprocess.run(["bash", str(bundle / "_internal" / "packaging" / "install-desktop.sh")],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    entry = tmp_path / "share" / "applications" / "radview.desktop"
    assert f'Exec="{bundle.resolve()}/radview" %F' in entry.read_text()
    assert (tmp_path / "share" / "icons" / "hicolor" / "256x256" / "apps" / "radview.png").is_file()
    assert subprocess.run([validate, str(entry)], capture_output=True).returncode == 0
