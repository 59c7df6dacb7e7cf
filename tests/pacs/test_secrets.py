"""PACS passwords and tokens: never in settings.json; the OS keyring, or a 0600 file where there is none.

No Orthanc needed: these tests stop where a connection would start."""

from __future__ import annotations

import json
import os
import stat

import pytest

from radview.core import pacs as core_pacs
from radview.core.pacs import DICOMWEB, DIMSE, PacsNode
from tests.conftest import radview_command
from tests.core.test_settings_file import FakeKeyring

URL = "https://pacs.example.org/dicom-web"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private RADVIEW_HOME whose keyring is a fake (never the developer's real one)."""
    keyring = FakeKeyring()
    monkeypatch.setenv("RADVIEW_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(core_pacs, "_system_keyring", lambda: keyring)
    return tmp_path / "home", keyring


def test_the_dicomweb_client_reads_the_stored_secret(home):
    from radview.pacs.dicomweb import _with_secrets
    from radview.user_dirs import pacs_secrets

    pacs_secrets().put("Web", "password", "stored-pw")
    pacs_secrets().put("Web", "token", "stored-tok")
    node = PacsNode("web", DICOMWEB, url=URL, username="rad")
    assert (_with_secrets(node).password, _with_secrets(node).token) == ("stored-pw", "stored-tok")
    typed = PacsNode("web", DICOMWEB, url=URL, username="rad", password="typed")
    assert _with_secrets(typed).password == "typed", "a password in the form being tested wins"
    assert _with_secrets(PacsNode("web", DIMSE, "AE", "h")).password == "", "DIMSE has no secrets"
    assert home[1].entries, "kept in the keyring"


def test_pacs_add_keeps_the_password_out_of_the_settings(tmp_path, monkeypatch):
    """In a fresh process, with keyring's null backend: what a headless box without a keyring does."""
    home = tmp_path / "home"
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("RADVIEW_PACS_PASSWORD", "cli-secret")
    add = radview_command(home, "pacs", "add", "Web", "--dicomweb", URL, "--user", "rad")
    assert add.returncode == 0, add.stderr
    settings, secrets = home / "config" / "settings.json", home / "config" / "pacs-secrets.json"
    assert "cli-secret" not in settings.read_text() and '"password"' not in settings.read_text()
    assert json.loads(secrets.read_text()) == {"web:password": "cli-secret"}
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600 and stat.S_IMODE(secrets.parent.stat().st_mode) == 0o700
    assert "password kept in" in add.stdout and "no system keyring" in add.stdout and "clear text" in add.stdout
    # replaced without a password: the old one must not linger
    monkeypatch.delenv("RADVIEW_PACS_PASSWORD")
    again = radview_command(home, "pacs", "add", "web", "--dicomweb", URL)
    assert again.returncode == 0, again.stderr
    assert not secrets.exists()


def test_a_settings_file_with_a_password_is_migrated_by_any_command(tmp_path, monkeypatch):
    home = tmp_path / "home"
    settings = home / "config" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"pacs_nodes": [{"name": "Web", "kind": DICOMWEB, "url": URL, "username": "rad",
                                                    "password": "old-clear-text"}]}))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    nodes = radview_command(home, "pacs", "nodes")
    assert nodes.returncode == 0 and "Web" in nodes.stdout
    assert "old-clear-text" not in settings.read_text() and nodes.stderr == ""
    assert json.loads((home / "config" / "pacs-secrets.json").read_text()) == {"web:password": "old-clear-text"}


def test_the_nodes_dialog_shows_stored_secrets_and_forgets_removed_ones(qtbot, home, monkeypatch):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from radview.gui import pacs_nodes_dialog
    from radview.gui.pacs_nodes_dialog import PacsNodesDialog
    from radview.user_dirs import pacs_secrets

    monkeypatch.setattr(pacs_nodes_dialog, "show_error", lambda *args, **kwargs: pytest.fail(f"error shown: {args}"))
    secrets = pacs_secrets()
    secrets.put("Web", "password", "pw-1")
    secrets.put("Web", "token", "tok-1")
    secrets.put("Gone", "token", "tok-gone")
    nodes = [PacsNode("Web", DICOMWEB, url=URL, username="rad"), PacsNode("Gone", DICOMWEB, url=URL)]
    dialog = PacsNodesDialog(nodes, lambda node: None, secrets=secrets)
    qtbot.addWidget(dialog)
    assert "fake keyring" in dialog.secrets_note.text()
    dialog.list.setCurrentRow(0)
    assert dialog.fields["password"].text() == "pw-1" and dialog.form_node().token == "tok-1"
    dialog.fields["token"].setText("")  # the user clears the token
    dialog.list.setCurrentRow(1)
    dialog._remove()  # and removes "Gone"
    dialog._save()
    assert dialog.result() == dialog.DialogCode.Accepted
    [web] = dialog.nodes()
    assert web.password == "pw-1" and web.token == ""
    assert secrets.get("web", "token") == "" and secrets.get("gone", "token") == ""
    assert secrets.get("web", "password") == "pw-1"
