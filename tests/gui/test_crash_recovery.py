"""kill -9 while the reader types the report: on the next start the text is back (autosave)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CHILD = Path(__file__).with_name("draft_child.py")
ROOT = Path(__file__).resolve().parents[2]


def _start(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "RADVIEW_HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)


def test_the_draft_survives_kill_9(tmp_path, demo_study):
    home, folder = tmp_path / "home", str(demo_study / "dicom" / "brain-mr")
    typed = "Findings discussed with the referring team on the ward."
    child = _start(home, "type", folder, typed)
    try:
        deadline = time.monotonic() + 120
        line = ""
        while "TYPED" not in line and time.monotonic() < deadline:
            line = child.stdout.readline()
            assert line or child.poll() is None, child.stderr.read()
        assert "TYPED" in line
        time.sleep(2.0)  # the bound: autosave within 2 s of an edit
        os.kill(child.pid, signal.SIGKILL)  # no close event, no atexit: a crash or a power cut
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    again = _start(home, "check", folder)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    impression = next(line for line in out.splitlines() if line.startswith("IMPRESSION:"))
    assert typed in impression
