"""settings.json: a typo never loses the user's settings, PACS secrets never stay in it, links refused."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import logging

import pytest

from radview.core.pacs import DICOMWEB, DIMSE, PacsNode, PacsSecrets
from radview.core.settings import Settings, load_settings, save_settings


class FakeKeyring:
    """A keyring backend in memory (keyring's get/set/delete_password); `refuse` makes it fail like a locked one."""

    name = "fake keyring"

    def __init__(self, refuse: bool = False) -> None:
        self.entries: dict[tuple[str, str], str] = {}
        self.refuse = refuse

    def get_password(self, service: str, user: str) -> str | None:
        return self.entries.get((service, user))

    def set_password(self, service: str, user: str, secret: str) -> None:
        if self.refuse:
            raise RuntimeError("the collection is locked")
        self.entries[(service, user)] = secret

    def delete_password(self, service: str, user: str) -> None:
        self.entries.pop((service, user))


WEB = {"name": "Web", "kind": DICOMWEB, "url": "https://pacs.example.org/dicom-web", "username": "rad",
       "password": "s3cret-pw", "token": "tok-123"}
DIMSE_NODE = {"name": "Orthanc", "kind": DIMSE, "ae_title": "ORTHANC", "host": "pacs", "port": 4242}


@pytest.fixture(autouse=True)
def info_log(caplog):
    caplog.set_level(logging.INFO, logger="radview.settings")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "config" / "settings.json"
    path.parent.mkdir()
    return path


def kept_copies(path: Path) -> list[Path]:
    return sorted(path.parent.glob("settings.json.broken-*"))


# --- 5. a broken file is kept, and nodes are never dropped silently ----------------------------

def test_a_json_typo_keeps_the_file_beside_it_and_names_both(path):
    text = json.dumps({"reader_name": "Dr Who", "pacs_nodes": [DIMSE_NODE]})[:-1]  # the closing brace lost
    path.write_text(text)
    settings, problems = load_settings(path, PacsSecrets(path.parent, None))
    assert settings == Settings()
    [copy] = kept_copies(path)
    assert copy.read_text() == text and stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert len(problems) == 1 and str(path) in problems[0] and str(copy) in problems[0]
    assert copy.name.startswith("settings.json.broken-20") and copy.name.endswith("Z")
    # loading the same broken file again keeps no second copy; saving leaves the copy alone
    assert str(copy) in load_settings(path, PacsSecrets(path.parent, None))[1][0]
    save_settings(settings, path, PacsSecrets(path.parent, None))
    assert kept_copies(path) == [copy] and copy.read_text() == text


def test_a_file_that_is_not_an_object_is_kept_too(path):
    path.write_text("[1, 2]")
    settings, problems = load_settings(path, PacsSecrets(path.parent, None))
    assert settings == Settings() and kept_copies(path) and str(kept_copies(path)[0]) in problems[0]


def test_one_bad_node_does_not_drop_the_others(path):
    bad = {**DIMSE_NODE, "name": "Bad", "port": "4242"}  # a port as text cannot be read
    incomplete = {"name": "Half", "kind": DIMSE, "ae_title": "HALF"}  # no host: cannot be used
    path.write_text(json.dumps({"reader_name": "Dr Who", "view_layout": "5x5",
                                "pacs_nodes": [DIMSE_NODE, bad, incomplete, 7]}))
    settings, problems = load_settings(path, PacsSecrets(path.parent, None))
    assert [n["name"] for n in settings.pacs_nodes] == ["Orthanc"]
    assert settings.reader_name == "Dr Who" and settings.view_layout == "1x3"
    assert any("'Bad' is left out" in p and "port" in p for p in problems)
    assert any("'Half' is left out" in p and "no host" in p for p in problems)
    assert any("node 4 is left out" in p for p in problems)
    [copy] = kept_copies(path)
    assert "Bad" in copy.read_text() and "Half" in copy.read_text()
    assert str(copy) in problems[-1] and str(path) in problems[-1]
    save_settings(settings, path, PacsSecrets(path.parent, None))
    assert "Half" in copy.read_text(), "saving after the message loses no node: the copy has it"


def test_nodes_that_are_not_a_list_are_reported_and_kept_aside(path):
    path.write_text(json.dumps({"pacs_nodes": {"name": "Orthanc"}}))
    settings, problems = load_settings(path, PacsSecrets(path.parent, None))
    assert settings.pacs_nodes == [] and any("pacs_nodes" in p for p in problems) and kept_copies(path)


def test_a_good_file_loads_without_problems_or_copies(path):
    save_settings(Settings(reader_name="Dr Q", pacs_nodes=[dict(DIMSE_NODE)]), path, PacsSecrets(path.parent, None))
    settings, problems = load_settings(path, PacsSecrets(path.parent, None))
    assert problems == [] and settings.pacs_node("orthanc").host == "pacs" and not kept_copies(path)


# --- 1. links ------------------------------------------------------------------------------------

def test_a_settings_file_planted_as_a_link_is_not_read_or_written(path, tmp_path):
    victim = tmp_path / "victim.json"
    victim.write_text(json.dumps({"reader_name": "someone else"}))
    path.symlink_to(victim)
    settings, problems = load_settings(path, PacsSecrets(path.parent, None))
    assert settings == Settings() and "symbolic link" in problems[0] and str(path) in problems[0]
    with pytest.raises(OSError, match="settings.json.*symbolic link"):
        save_settings(Settings(reader_name="Dr Q"), path, PacsSecrets(path.parent, None))
    assert json.loads(victim.read_text()) == {"reader_name": "someone else"}


# --- 6. PACS secrets leave the file -------------------------------------------------------------

def test_clear_text_secrets_are_moved_to_the_keyring_on_load(path, caplog):
    path.write_text(json.dumps({"reader_name": "Dr Who", "pacs_nodes": [WEB, DIMSE_NODE]}))
    keyring = FakeKeyring()
    secrets = PacsSecrets(path.parent, keyring)
    settings, problems = load_settings(path, secrets)
    text = path.read_text()
    assert "s3cret-pw" not in text and "tok-123" not in text and '"password"' not in text
    assert json.loads(text)["reader_name"] == "Dr Who" and len(json.loads(text)["pacs_nodes"]) == 2
    assert sorted(keyring.entries.values()) == ["s3cret-pw", "tok-123"]
    assert problems == [], "done as it should be: nothing to show at start-up"
    assert "moved the password of 'Web' into the system keyring (fake keyring)" in caplog.text
    node = settings.pacs_node("web")
    assert node.password == "" and node.token == ""
    filled = secrets.fill(node)
    assert (filled.password, filled.token) == ("s3cret-pw", "tok-123")
    assert load_settings(path, secrets)[1] == [], "migrated once"
    assert not (path.parent / "pacs-secrets.json").exists()


def test_without_a_keyring_secrets_go_to_a_private_file_and_the_log_says_so(path, caplog):
    old = os.umask(0)
    try:
        path.write_text(json.dumps({"pacs_nodes": [WEB]}))
        secrets = PacsSecrets(path.parent, None)
        settings, problems = load_settings(path, secrets)
    finally:
        os.umask(old)
    file = path.parent / "pacs-secrets.json"
    assert "s3cret-pw" not in path.read_text() and "s3cret-pw" in file.read_text()
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert problems == [] and "no system keyring" in caplog.text and "clear text" in caplog.text
    assert str(file) in caplog.text and "no system keyring" in secrets.where
    assert secrets.fill(settings.pacs_node("Web")).password == "s3cret-pw"


def test_a_keyring_that_refuses_falls_back_to_the_file_never_losing_the_secret(path, caplog):
    path.write_text(json.dumps({"pacs_nodes": [WEB]}))
    secrets = PacsSecrets(path.parent, FakeKeyring(refuse=True))
    _, problems = load_settings(path, secrets)
    assert problems == [] and "s3cret-pw" not in path.read_text()
    assert secrets.get("WEB", "token") == "tok-123" and "refused it: the collection is locked" in caplog.text


def test_saving_moves_a_typed_secret_out_of_the_file(path):
    keyring = FakeKeyring()
    secrets = PacsSecrets(path.parent, keyring)
    node = PacsNode("Web", DICOMWEB, url="https://pacs/dicom-web", username="rad", password="typed-pw")
    settings = Settings(pacs_nodes=[node.to_dict()])
    notes = save_settings(settings, path, secrets)
    assert "typed-pw" not in path.read_text() and '"token"' not in path.read_text()
    assert notes == ["PACS node 'Web': password kept in the system keyring (fake keyring)"]
    assert "password" not in settings.pacs_nodes[0], "in memory too: the store has it now"
    assert secrets.get("web", "password") == "typed-pw"
    assert save_settings(settings, path, secrets) == [], "nothing left to move"


def test_a_node_never_shows_its_secret_when_printed():
    node = PacsNode("Web", DICOMWEB, url="https://x", username="u", password="pw-xyz", token="tok-xyz")
    assert "pw-xyz" not in repr(node) and "tok-xyz" not in repr(node)
    assert "password" not in node.settings_dict() and "token" not in node.settings_dict()
