"""No command ends in a traceback on bad input. Each broken file alone: one line
`radview: <file>: <problem>` on stderr and exit 2. Broken files beside good ones: exit 0, the broken
ones named. A series of 1x1 images runs no model (the cards' input rules exclude it) and is quick."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from radview import cli
from radview.commands import info
from radview.dicom.load import LoadError
from tests.dicom.test_fuzz import (BAD_FILES, ct_image, save, with_codestream_size, write_bad_corpus,
                                   write_one_pixel_series)

COMMANDS = ("info", "convert", "analyze", "inputs", "anonymize")
# De-identification reads headers only: these keep a readable header and may be copied, de-identified
# (exit 0), or left out as the other broken files are (exit 2).
ANONYMIZED_DESPITE_PIXELS = {"truncated.dcm", "overdeclared.dcm", "declaration-bomb.dcm"}


def run(command: str, source: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """`python -m radview COMMAND SOURCE [OUT]` with its own RADVIEW_HOME, off screen."""
    out = tmp_path / f"out-{command}-{source.name}"
    extra = {"info": [], "inputs": [], "convert": [out], "anonymize": [out], "analyze": ["--out", out]}[command]
    env = {**os.environ, "RADVIEW_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "radview", command, str(source), *map(str, extra)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    """The broken files of tests/dicom/test_fuzz.py, by name."""
    return write_bad_corpus(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("command", COMMANDS)
def test_each_broken_file_alone_is_one_line_naming_it_and_exit_2(command, corpus, tmp_path):
    for name, path in corpus.items():
        done = run(command, path, tmp_path)
        assert "Traceback" not in done.stderr, (name, done.stderr)
        if command == "anonymize" and name in ANONYMIZED_DESPITE_PIXELS and done.returncode == 0:
            assert "1 file(s) de-identified" in done.stdout, (name, done.stdout)
            continue
        assert done.returncode == 2, (name, done.returncode, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert lines and all(line.startswith("radview: ") for line in lines), (name, done.stderr)
        assert f"radview: {path}: " in done.stderr, (name, done.stderr)


def test_the_probe_cases_name_the_problem(corpus, tmp_path):
    """What each command says about the files the probe found: more declared than held, and the bomb."""
    over = run("analyze", corpus["overdeclared.dcm"], tmp_path)
    assert over.returncode == 2 and "Traceback" not in over.stderr
    assert "declares 8.0 KiB of pixel data but the file holds 8 bytes" in over.stderr
    bomb = run("info", corpus["declaration-bomb.dcm"], tmp_path)
    assert bomb.returncode == 2
    assert f"radview: {corpus['declaration-bomb.dcm']}: declares 65535x65535 pixels, over the 16384x16384 limit" \
        in bomb.stderr


@pytest.mark.parametrize("command", ["analyze", "inputs", "convert"])
def test_a_file_that_fails_only_when_decoded_is_one_line_and_exit_2(command, tmp_path):
    """Its header is fine; its JPEG 2000 codestream declares 30000x30000 pixels: the loader's LoadError."""
    path = with_codestream_size("MR_small_jp2klossless.dcm", 30000, 30000, tmp_path / "j2k-bomb.dcm")
    done = run(command, path, tmp_path)
    assert "Traceback" not in done.stderr and done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"radview: {path}: frame 1's codestream declares 30000x30000"), done.stderr


def test_the_loaders_error_is_one_line_and_a_bug_keeps_its_traceback(monkeypatch, capsys):
    def bad_input(args):
        raise LoadError("/data/IM1.dcm: pixel data truncated (10 of 512 bytes)")

    monkeypatch.setattr(info, "cmd_info", bad_input)
    assert cli.main(["info", "/data"]) == 2
    assert capsys.readouterr().err == "radview: /data/IM1.dcm: pixel data truncated (10 of 512 bytes)\n"

    def bug(args):
        raise KeyError("a programming error")

    monkeypatch.setattr(info, "cmd_info", bug)
    with pytest.raises(KeyError):
        cli.main(["info", "/data"])


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    """The broken files beside one good image and a series of 1x1 images."""
    folder = tmp_path_factory.mktemp("mixed")
    write_bad_corpus(folder)
    save(ct_image(16, 16), folder / "good.dcm")
    write_one_pixel_series(folder / "one-pixel", slices=20)
    return folder


@pytest.mark.parametrize("command", COMMANDS)
def test_broken_files_beside_good_ones_exit_0_and_are_named(command, mixed, tmp_path):
    done = run(command, mixed, tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, (done.stdout, done.stderr)
    if command in ("info", "convert", "anonymize"):  # the commands that list what they left out
        for name in set(BAD_FILES) - (ANONYMIZED_DESPITE_PIXELS if command == "anonymize" else set()):
            assert str(mixed / name) in done.stdout + done.stderr, name


def test_analyze_runs_no_model_on_a_series_of_one_pixel_images_and_is_quick(tmp_path):
    folder = write_one_pixel_series(tmp_path / "one-pixel", slices=60)
    started = time.monotonic()
    done = run("analyze", folder, tmp_path)
    seconds = time.monotonic() - started
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    runs = json.loads((tmp_path / "out-analyze-one-pixel" / "findings.json").read_text())["model_runs"]
    assert runs and all(r["outcome"] == "not_applicable" and "matrix 1 pixels" in r["reason"] for r in runs), runs
    assert seconds < 20, f"analyze took {seconds:.1f} s on 60 images of 1x1"


def test_analyze_goes_on_past_a_series_that_fails_to_load(demo_study, tmp_path):
    """One study's series cannot be decoded; the other study is analysed and the bad one is named."""
    import shutil

    folder = tmp_path / "two-studies"
    shutil.copytree(demo_study / "dicom" / "chest-xray", folder / "xray")
    bad = with_codestream_size("MR_small_jp2klossless.dcm", 30000, 30000, folder / "j2k-bomb.dcm")
    done = run("analyze", folder, tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "not analysed: " in done.stdout and "codestream declares 30000x30000" in done.stdout
    assert done.stdout.count("finding(s)") == 2, "both studies are listed, the radiograph analysed"
    assert bad.exists()
