"""AI > Monitoring: the `radview monitor` figures of this account's studies, in a dialog.

The audit logs are read and the figures drawn in a worker (radview.gui.workers); the dialog
shows the summary per model version and the PNGs, the same as the HTML page."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QLabel, QScrollArea, QVBoxLayout, QWidget

from radview.gui.error_dialog import readable
from radview.gui.workers import TaskContext, TaskRunner

PENDING = "Reading the studies' audit logs…"


def summary_text(report: dict) -> str:
    """One paragraph per model version (rates, kappa, size edits), plain text."""
    lines = [f"{report['studies']} stud(ies) with audit logs; {len(report['excluded'])} left out (log damaged or altered)."]
    for m in report["models"]:
        c, r, a, s = m["counts"], m["rates"], m["agreement"], m["size_edits"]
        rates = ", ".join(f"{k.replace('_rate', '')} {100 * v:.0f} %" for k, v in r.items() if v is not None) or "none"
        kappa = (f"kappa {a['kappa']:.2f} (95 % CI {a['ci_low']:.2f} to {a['ci_high']:.2f}, n={a['n']})"
                 if a["kappa"] is not None else f"kappa undefined (n={a['n']})")
        size = f", mean size change {s['mean_change_mm']:+.1f} mm (n={s['n']})" if s["n"] else ""
        lines.append(f"{m['model_id']} {m['model_version']}: {c['decided']} decided ({rates}); {c['unreviewed']} "
                     f"unreviewed, {c['accepted-unseen']} accepted unseen; {kappa}{size}")
    return "\n".join(lines) if report["models"] else lines[0] + "\nNo reader decisions on AI findings yet."


class MonitorDialog(QDialog):
    """Fills itself from a worker; `figures` holds a QLabel per figure once shown."""

    def __init__(self, data_root: Path, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("monitorDialog")
        self.setWindowTitle("AI monitoring")
        self.summary = QLabel(PENDING)
        self.summary.setWordWrap(True)
        self.figures: list[QLabel] = []
        self._column = QVBoxLayout()
        holder = QWidget()
        holder.setLayout(self._column)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)
        self.resize(720, 760)

        def work(ctx: TaskContext) -> tuple[dict, list[tuple[str, bytes]]]:
            from radview.core.audit import verify_audit_log
            from radview.workflow.monitor import monitor
            from radview.workflow.monitor_report import figure_png, figures

            report = monitor(data_root, check=lambda path: verify_audit_log(path).problems)
            try:
                return report, [(spec["title"], figure_png(spec)) for spec in figures(report)]
            except ImportError:  # the packaged application leaves matplotlib out: the figures as numbers only
                return report, []

        runner.run("AI monitoring", work, self.show_report,
                   lambda error: self.summary.setText(f"The monitoring could not be computed: {readable(error)}"),
                   key="monitoring")

    def show_report(self, result: tuple[dict, list[tuple[str, bytes]]]) -> None:
        report, pngs = result
        self.summary.setText(summary_text(report))
        for title, png in pngs:
            label = QLabel()
            label.setToolTip(title)
            pixmap = QPixmap()
            pixmap.loadFromData(png, "PNG")
            label.setPixmap(pixmap)
            self._column.addWidget(label)
            self.figures.append(label)
        self._column.addStretch(1)
