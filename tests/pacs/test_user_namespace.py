"""Without root, the PACS tests cannot join Orthanc's network namespace; they run here instead,
in a child pytest that is root in a user namespace of its own (`unshare -rn`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(os.geteuid() == 0, reason="as root the PACS tests run directly against Orthanc")
def test_the_pacs_tests_pass_inside_a_user_namespace():
    done = subprocess.run(["unshare", "-rn", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/pacs", "tests/gui/test_pacs_dialog.py"], cwd=ROOT, capture_output=True, text=True,
                          timeout=1200, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "skipped" not in done.stdout.splitlines()[-1], done.stdout[-2000:]
