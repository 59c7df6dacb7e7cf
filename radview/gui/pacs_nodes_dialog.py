"""Settings > PACS nodes: add, edit, remove and test the PACS nodes (DIMSE or DICOMweb)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from radview.core.pacs import DICOMWEB, DIMSE, RETRIEVE_METHODS, SECRET_FIELDS, PacsNode, PacsSecrets
from radview.gui.error_dialog import readable, show_error
from radview.user_dirs import pacs_secrets


class PacsNodesDialog(QDialog):
    """Edits a copy of the nodes; `nodes()` gives them back when the dialog is accepted."""

    def __init__(self, nodes: list[PacsNode], test_connection, parent: QWidget | None = None,
                 secrets: PacsSecrets | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PACS nodes")
        # passwords and tokens live in PacsSecrets, not the settings: shown (masked) from there;
        # the caller's save_settings stores what the form holds, _save forgets what was removed
        self._secrets = secrets or pacs_secrets()
        self._nodes, self._stored, secrets_note = self._with_secrets(nodes)
        self._test = test_connection  # (node) -> None: runs the test, reports the answer
        self.list = QListWidget()
        self.fields: dict[str, QWidget] = {
            "name": QLineEdit(), "kind": QComboBox(), "ae_title": QLineEdit(), "host": QLineEdit(), "port": QSpinBox(),
            "our_ae_title": QLineEdit(), "retrieve_method": QComboBox(), "our_port": QSpinBox(), "url": QLineEdit(),
            "username": QLineEdit(), "password": QLineEdit(), "token": QLineEdit(),
        }
        self.fields["kind"].addItems([DIMSE, DICOMWEB])
        self.fields["retrieve_method"].addItems(list(RETRIEVE_METHODS))
        for name in ("port", "our_port"):
            self.fields[name].setRange(1, 65535)
        for name in ("password", "token"):
            self.fields[name].setEchoMode(QLineEdit.EchoMode.Password)
        self.fields["url"].setPlaceholderText("https://pacs.example.org/dicom-web")
        form = QFormLayout()
        labels = {"ae_title": "PACS AE title", "our_ae_title": "Our AE title", "our_port": "Our port (C-MOVE)",
                  "url": "DICOMweb URL", "username": "User (basic auth)", "token": "Bearer token"}
        for name, widget in self.fields.items():
            form.addRow(labels.get(name, name.replace("_", " ").capitalize()), widget)
        self.secrets_note = QLabel(secrets_note)
        self.secrets_note.setWordWrap(True)
        form.addRow("", self.secrets_note)
        add, remove, test = QPushButton("Add"), QPushButton("Remove"), QPushButton("Test connection")
        add.clicked.connect(self._add)
        remove.clicked.connect(self._remove)
        test.clicked.connect(lambda: self._run_test())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        left = QVBoxLayout()
        left.addWidget(self.list)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        left.addLayout(row)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(test)
        top = QHBoxLayout()
        top.addLayout(left, 1)
        top.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(buttons)
        self.list.currentRowChanged.connect(self._show)
        self._current = -1
        self._refill()

    def _with_secrets(self, nodes: list[PacsNode]) -> tuple[list[PacsNode], set[tuple[str, str]], str]:
        """Copies of `nodes` with their stored secrets, which (name, field) were stored, and the
        line that says where passwords and tokens are kept."""
        try:
            filled = [replace(self._secrets.fill(n)) for n in nodes]
            where = f"Passwords and tokens are kept in {self._secrets.where}, never in the settings file."
        except (OSError, ValueError) as error:
            return [replace(n) for n in nodes], set(), f"⚠ The stored passwords and tokens cannot be read: {error}"
        stored = {(n.name.lower(), name) for n, f in zip(nodes, filled) for name in SECRET_FIELDS
                  if getattr(f, name) and not getattr(n, name)}
        return filled, stored, where

    def _forget_removed_secrets(self) -> None:
        """Delete the stored secrets of nodes removed or renamed, and of fields the user emptied."""
        now = {(n.name.lower(), name) for n in self._nodes for name in SECRET_FIELDS if getattr(n, name)}
        for node, name in self._stored - now:
            self._secrets.delete(node, name)

    def _refill(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItems([n.name for n in self._nodes])
        self.list.blockSignals(False)
        if self._nodes:
            self.list.setCurrentRow(max(0, min(self._current, len(self._nodes) - 1)))
            self._show(self.list.currentRow())

    def _show(self, row: int) -> None:
        self._store()
        self._current = row
        if not 0 <= row < len(self._nodes):
            return
        for name, widget in self.fields.items():
            value = getattr(self._nodes[row], name)
            if isinstance(widget, QComboBox):
                widget.setCurrentText(value)
            elif isinstance(widget, QSpinBox):
                widget.setValue(int(value))
            else:
                widget.setText(value)

    def form_node(self) -> PacsNode:
        """The node as the form shows it now."""
        values = {}
        for name, widget in self.fields.items():
            values[name] = (widget.currentText() if isinstance(widget, QComboBox) else
                            widget.value() if isinstance(widget, QSpinBox) else widget.text().strip())
        return PacsNode(**values)

    def _store(self) -> None:
        if 0 <= self._current < len(self._nodes):
            self._nodes[self._current] = self.form_node()
            self.list.item(self._current).setText(self._nodes[self._current].name)

    def _add(self) -> None:
        self._store()
        self._nodes.append(PacsNode(f"PACS {len(self._nodes) + 1}", DIMSE, "PACS", "localhost", 104))
        self._current = len(self._nodes) - 1
        self._refill()

    def _remove(self) -> None:
        if 0 <= self._current < len(self._nodes):
            del self._nodes[self._current]
            self._current = -1
            self._refill()

    def _run_test(self) -> None:
        node = self.form_node()
        problems = node.problems()
        if problems:
            show_error(self, "Test connection", "\n".join(problems))
            return
        try:
            self._test(node)
        except Exception as error:  # the caller reports its own errors; this guards the dialog
            show_error(self, "Test connection", readable(error))

    def _save(self) -> None:
        self._store()
        problems = [p for n in self._nodes for p in n.problems()]
        names = [n.name.lower() for n in self._nodes]
        if len(set(names)) != len(names):
            problems.append("two nodes have the same name")
        if problems:
            show_error(self, "PACS nodes", "\n".join(problems), "Nothing was saved.")
            return
        try:
            self._forget_removed_secrets()
        except (OSError, ValueError) as error:
            show_error(self, "PACS nodes", f"A removed password or token cannot be deleted: {error}",
                       "Nothing was saved.")
            return
        self.accept()

    def nodes(self) -> list[PacsNode]:
        return list(self._nodes)
