"""AI > Run a Model by Hand on a chest CT: the CT model first, the other modalities' models
listed with why, greyed, and never run (their input checks cannot be relied on for another
modality: mr-brain-tumor's passes a chest CT)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from radview.gui.model_choice_dialog import CARD_ROLE, ModelChoiceDialog
from radview.workflow.model_selection import available_models, models_for


def test_models_of_another_modality_are_listed_but_cannot_be_run(qtbot, planted_ct, monkeypatch):
    volume = planted_ct[2]
    dialog = ModelChoiceDialog(models_for(available_models(), volume), "series 1 chest CT")
    qtbot.addWidget(dialog)
    items = [dialog.list.item(row) for row in range(dialog.list.count())]
    by_id = {item.data(CARD_ROLE)[0].id: item for item in items}
    assert {"ct-nodule", "cxr-nodule", "mr-brain-tumor"} <= set(by_id)
    assert dialog.list.currentItem() is by_id["ct-nodule"] and "made for this series" in by_id["ct-nodule"].text()
    mr = by_id["mr-brain-tumor"]
    assert "cannot run on this series: modality CT; made for MR" in mr.text()
    assert not mr.flags() & Qt.ItemFlag.ItemIsEnabled and not mr.flags() & Qt.ItemFlag.ItemIsSelectable

    # made current anyway (by code: a click cannot), Run neither warns nor chooses it
    warned = []
    monkeypatch.setattr("radview.gui.model_choice_dialog.confirm_by_hand", lambda *a: warned.append(a) or True)
    dialog.list.setCurrentItem(mr)
    dialog._run()
    assert dialog.chosen is None and not warned
    dialog.list.setCurrentItem(by_id["ct-nodule"])
    dialog._run()
    assert dialog.chosen[0].id == "ct-nodule" and dialog.chosen[1] == [] and not warned
