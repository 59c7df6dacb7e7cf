"""One writer per study: two `radview analyze` processes on one study at once both finish, one
after the other, and leave a valid review and an audit chain that verifies."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import radview_command


def test_two_analyze_processes_on_one_study_take_turns(demo_study, tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "RADVIEW_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    study = str(demo_study / "dicom" / "chest-xray")
    runs = [subprocess.Popen([sys.executable, "-m", "radview", "analyze", study, "--out", str(tmp_path / f"out{n}"),
                              "--accept-all"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for n in (1, 2)]
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    for status, out, err in results:
        assert status == 0, out + err
    review = json.loads(next(home.rglob("review.json")).read_text())
    assert review["findings"], "the demo radiograph has planted nodules"
    uid = json.loads((tmp_path / "out1" / "findings.json").read_text())["study_instance_uid"]
    audit = radview_command(home, "audit", uid)
    assert audit.returncode == 0 and "chain intact" in audit.stdout, audit.stdout + audit.stderr
    # the second run found the first one's review: its findings were not added twice
    assert len(review["findings"]) == len(json.loads((tmp_path / "out1" / "findings.json").read_text())["findings"])
