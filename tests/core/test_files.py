"""RadView's own files: no symbolic link followed, folders 0700 and files 0600 whatever the umask,
study folders that no UID can move out of the studies folder, unique temp names."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from radview.core import safe_files
from radview.core.atomic import write_bytes_atomic
from radview.core.safe_files import (UnsafePathError, append_private, create_dirs, open_private, private_dir,
                                     read_private, write_private_atomic)
from radview.core.settings import Settings, save_settings
from radview.core.workspace import StudyWorkspace, WorkspaceError, study_folder_name

UID = "1.2.826.0.1.3680043.8.498.1"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """Another user's file that a planted link points at."""
    path = tmp_path / "elsewhere" / "victim.txt"
    path.parent.mkdir()
    path.write_text("untouched\n")
    return path


@pytest.fixture
def no_umask():
    """umask 000, as on some shared machines: nothing RadView makes may become world-writable."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# --- 1. planted symbolic links are refused, never followed -------------------------------------

def test_the_append_helper_refuses_a_planted_link_and_names_it(tmp_path, victim):
    log = tmp_path / "ws" / "audit.jsonl"
    log.parent.mkdir()
    log.symlink_to(victim)
    with pytest.raises(UnsafePathError, match="audit.jsonl.*symbolic link"):
        append_private(log, '{"seq": 1}\n')
    assert victim.read_text() == "untouched\n"


def test_the_append_helper_appends_syncs_and_creates_private(tmp_path, no_umask):
    log = tmp_path / "new" / "audit.jsonl"
    append_private(log, "one\n")
    append_private(log, "two\n")
    assert log.read_text() == "one\ntwo\n"
    assert mode(log) == 0o600 and mode(log.parent) == 0o700


def test_a_hard_link_to_another_file_is_not_written(tmp_path, victim):
    log = tmp_path / "audit.jsonl"
    os.link(victim, log)
    with pytest.raises(UnsafePathError, match="hard links"):
        append_private(log, "x\n")
    with pytest.raises(UnsafePathError, match="hard links"):
        open_private(log, "w")
    assert victim.read_text() == "untouched\n"


def test_reading_and_writing_refuse_links(tmp_path, victim):
    link = tmp_path / "settings.json"
    link.symlink_to(victim)
    for attempt in (lambda: read_private(link), lambda: write_private_atomic(link, b"{}"),
                    lambda: open_private(link, "a"), lambda: write_bytes_atomic(link, b"{}")):
        with pytest.raises(UnsafePathError, match="settings.json"):
            attempt()
    assert link.is_symlink() and victim.read_text() == "untouched\n"


def test_a_file_in_a_linked_folder_is_outside_its_root(tmp_path, victim):
    root = tmp_path / "root"
    root.mkdir()
    (root / "sub").symlink_to(victim.parent)
    with pytest.raises(UnsafePathError, match="outside"):
        write_private_atomic(root / "sub" / "x.json", b"{}", root)
    with pytest.raises(UnsafePathError, match="outside"):
        append_private(root / "sub" / "victim.txt", "x", root)
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.txt"]


def test_a_workspace_file_planted_as_a_link_is_refused(tmp_path, victim):
    ws = StudyWorkspace(tmp_path / "data", UID)
    ws.ensure_folder()
    ws.review_path.symlink_to(victim)
    with pytest.raises(WorkspaceError, match="review.json"):
        ws.read_json(ws.review_path)
    with pytest.raises(UnsafePathError, match="review.json"):
        ws.write_json(ws.review_path, {"findings": []})
    assert victim.read_text() == "untouched\n" and ws.review_path.is_symlink()


def test_a_workspace_folder_planted_as_a_link_is_refused(tmp_path, victim):
    ws = StudyWorkspace(tmp_path / "data", UID)
    ws.folder.parent.mkdir(parents=True)
    ws.folder.symlink_to(victim.parent)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        ws.write_json(ws.report_path, {"text": "x"})
    with pytest.raises(UnsafePathError, match="symbolic link"):
        ws.audit_log()
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.txt"]


def test_a_linked_studies_folder_is_outside_the_data_folder(tmp_path, victim):
    data = tmp_path / "data"
    data.mkdir()
    (data / "studies").symlink_to(victim.parent)
    ws = StudyWorkspace(data, UID)
    with pytest.raises(UnsafePathError, match="outside"):
        ws.write_json(ws.review_path, {})
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.txt"]


def test_a_workspace_reads_back_what_it_wrote(tmp_path):
    ws = StudyWorkspace(tmp_path / "data", UID)
    assert ws.read_json(ws.review_path) is None
    ws.write_json(ws.review_path, {"reader": "Dr Ø"})
    assert ws.read_json(ws.review_path) == {"reader": "Dr Ø"}


# --- 2. folders 0700 and files 0600 whatever the umask -----------------------------------------

def test_workspace_folders_and_files_are_private_under_umask_000(tmp_path, no_umask):
    ws = StudyWorkspace(tmp_path / "data", UID)
    ws.write_json(ws.review_path, {})
    ws.write_json(ws.exports / "dicom" / "note.json", {})
    for folder in (tmp_path / "data", tmp_path / "data" / "studies", ws.folder, ws.exports, ws.exports / "dicom"):
        assert mode(folder) == 0o700, folder
    assert mode(ws.review_path) == 0o600 and mode(ws.exports / "dicom" / "note.json") == 0o600


def test_the_settings_folder_and_file_are_private_under_umask_000(tmp_path, no_umask):
    path = tmp_path / "config" / "RadView" / "settings.json"
    save_settings(Settings(reader_name="Dr Q"), path)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700


def test_atomic_writes_and_open_private_are_private_under_umask_000(tmp_path, no_umask):
    write_bytes_atomic(tmp_path / "a" / "b" / "x.bin", b"1")
    with open_private(tmp_path / "c" / "y.txt", "w") as f:
        f.write("y")
    assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == mode(tmp_path / "c") == 0o700
    assert mode(tmp_path / "a" / "b" / "x.bin") == mode(tmp_path / "c" / "y.txt") == 0o600


def test_private_dir_tightens_its_folder_but_create_dirs_leaves_others_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    create_dirs(shared / "new")
    assert mode(shared) == 0o755 and mode(shared / "new") == 0o700
    private_dir(shared)
    assert mode(shared) == 0o700


def test_writing_a_file_of_someone_elses_mode_makes_it_private(tmp_path):
    path = tmp_path / "old.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    with open_private(path, "w") as f:
        f.write("[]")
    assert mode(path) == 0o600 and path.read_text() == "[]"


# --- 3. a StudyInstanceUID never makes a path outside the studies folder ----------------------

HOSTILE = ["..", ".", "../x", "../../etc", "x/..", "1.2/3", "1.2\\3", "/abs", "1." * 40 + "1", "1" * 65,
           "1.2.3~../../x", "~", "1..2", "\x00", "ÿ.1"]


@pytest.mark.parametrize("uid", HOSTILE)
def test_a_hostile_uid_stays_inside_the_studies_folder(tmp_path, uid):
    ws = StudyWorkspace(tmp_path / "data", uid)
    studies = tmp_path / "data" / "studies"
    assert ws.folder.parent == studies
    assert ws.folder.name not in ("", ".", "..") and "/" not in ws.folder.name and "\\" not in ws.folder.name
    assert len(ws.folder.name) <= 64 and "\x00" not in ws.folder.name
    assert os.path.realpath(ws.folder).startswith(os.path.realpath(studies) + os.sep)
    ws.write_json(ws.review_path, {"uid": uid})
    assert json.loads(ws.review_path.read_text())["uid"] == uid


def test_hostile_uids_get_unique_folders_and_valid_ones_keep_theirs():
    names = [study_folder_name(uid) for uid in HOSTILE]
    assert len(set(names)) == len(names)
    assert study_folder_name(UID) == UID
    # radview.dicom.identity's key for a UID two patients share: the folder earlier versions made
    assert study_folder_name(f"{UID}~0123456789ab") == f"{UID}_0123456789ab"
    assert study_folder_name("1" * 64) == "1" * 64
    assert study_folder_name("1" * 65) != "1" * 65


def test_a_workspace_needs_a_uid(tmp_path):
    with pytest.raises(ValueError, match="StudyInstanceUID"):
        StudyWorkspace(tmp_path, "")


# --- 4. temp files have unique names -----------------------------------------------------------

def test_atomic_writes_use_a_new_temp_name_each_time(tmp_path, monkeypatch):
    used = []
    real_replace = os.replace

    def spy(src, dst, *args, **kwargs):
        used.append(Path(src).name)
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(safe_files.os, "replace", spy)
    target = tmp_path / "report.json"
    # a file planted at a predictable temp name is neither used nor followed
    (tmp_path / ".report.json.tmp").symlink_to(tmp_path / "planted-target")
    for n in range(3):
        write_private_atomic(target, str(n))
    assert len(set(used)) == 3 and ".report.json.tmp" not in used
    assert target.read_text() == "2" and not (tmp_path / "planted-target").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp") and not p.is_symlink()], "no temp file left"
