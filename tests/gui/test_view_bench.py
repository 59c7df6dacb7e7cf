"""`radview bench view` runs end to end (a few frames; the real figures come from the command)."""

from __future__ import annotations

import json

from radview.cli import main


def test_bench_view_writes_its_table_and_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RADVIEW_HOME", str(tmp_path / "home"))
    out = tmp_path / "bench-view.json"
    assert main(["bench", "view", "--frames", "5", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "step, axial, with a mask overlay" in table and "launch to window shown" in table
    report = json.loads(out.read_text())
    mask = report["cases"]["step, axial, with a mask overlay"]
    assert mask["target_ms"] == 5.0 and mask["median_ms"] > 0
    assert report["cases"]["baseline: bare ImageItem step"]["ratio_to_baseline"] == 1.0
    assert 0 < report["launch_to_window"]["median_s"] < 30
