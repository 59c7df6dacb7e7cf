"""The monitoring report's figures: one spec, drawn as PNG (matplotlib, Agg) for the HTML page and
the window's dialog, and written as data in the JSON, so every picture has its numbers beside it."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

RATE_SERIES = ("accepted_rate", "edited_rate", "rejected_rate")


def figures(report: dict) -> list[dict]:
    """Per model version, by ISO week: decision rates, kappa with its 95 % CI, mean size change."""
    specs = []
    for model in report["models"]:
        name = f"{model['model_id']} {model['model_version']}"
        weeks = [w["week"] for w in model["weeks"]]
        specs.append({"id": f"{name} rates", "model": name, "title": f"{name}: reader decisions by week",
                      "y_label": "share of decided findings", "x": weeks,
                      "series": {s.replace("_rate", ""): [w["rates"][s] for w in model["weeks"]] for s in RATE_SERIES}})
        specs.append({"id": f"{name} kappa", "model": name,
                      "title": f"{name}: reader-vs-AI agreement on presence (Cohen's kappa, 95 % CI)",
                      "y_label": "kappa", "x": weeks,
                      "series": {key: [w["agreement"][key] for w in model["weeks"]]
                                 for key in ("kappa", "ci_low", "ci_high")}})
        specs.append({"id": f"{name} sizes", "model": name, "title": f"{name}: reader's size edits (reader - AI)",
                      "y_label": "mm", "x": weeks,
                      "series": {key: [w["size_edits"][key] for w in model["weeks"]]
                                 for key in ("mean_change_mm", "mean_abs_change_mm")}})
    return specs


def figure_png(spec: dict, dpi: int = 90) -> bytes:
    """The spec drawn as a PNG (None values are gaps)."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, safe beside the window's Qt

    figure = Figure(figsize=(6.4, 3.2), dpi=dpi)
    axes = figure.add_subplot()
    x = list(range(len(spec["x"])))
    series = spec["series"]
    if "kappa" in series:
        points = [(i, k, lo, hi) for i, k, lo, hi in zip(x, series["kappa"], series["ci_low"], series["ci_high"])
                  if k is not None]
        if points:
            axes.errorbar([p[0] for p in points], [p[1] for p in points],
                          yerr=[[p[1] - p[2] for p in points], [p[3] - p[1] for p in points]], fmt="o-", capsize=4,
                          label="kappa")
        axes.axhline(0.0, color="grey", linewidth=0.5)
        axes.set_ylim(-1.05, 1.05)
    else:
        for name, values in series.items():
            axes.plot(x, [float("nan") if v is None else v for v in values], "o-", label=name.replace("_", " "))
        if spec["id"].endswith("rates"):
            axes.set_ylim(-0.02, 1.02)
    axes.set_xticks(x, spec["x"], rotation=30, fontsize=7)
    axes.set_title(spec["title"], fontsize=9)
    axes.set_ylabel(spec["y_label"], fontsize=8)
    if axes.get_legend_handles_labels()[0]:  # a week with nothing to draw has no legend
        axes.legend(fontsize=7)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def report_json(report: dict) -> str:
    """The report and its figures' data as JSON."""
    return json.dumps({**report, "figures": figures(report)}, indent=1, ensure_ascii=False)


def _fmt(value, percent: bool = False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:.0f} %" if percent else f"{value}"


def report_html(report: dict, generated: str) -> str:
    """A self-contained page: a table per model version and the figures (embedded PNG)."""
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>RadView AI monitoring</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #aaa;padding:3px 8px;text-align:right}</style></head><body>",
             "<h1>RadView AI monitoring</h1>",
             f"<p>Generated {html.escape(generated)} from {report['studies']} study audit log(s)"
             + (f", decisions since {html.escape(report['since'])}" if report["since"] else "") + ".</p>"]
    if report["excluded"]:
        parts.append("<p><b>Left out</b> (audit log damaged or altered): "
                     + "; ".join(html.escape(f"{e['study']}: {e['problems'][0]}") for e in report["excluded"]) + "</p>")
    parts.append("<table><tr><th>model</th><th>decided</th><th>accepted</th><th>edited</th><th>rejected</th>"
                 "<th>unreviewed</th><th>accepted unseen</th><th>kappa (95 % CI), n</th><th>mean size change</th></tr>")
    for m in report["models"]:
        a, r, c, s = m["agreement"], m["rates"], m["counts"], m["size_edits"]
        kappa = (f"{a['kappa']:.2f} ({a['ci_low']:.2f} to {a['ci_high']:.2f}), {a['n']}" if a["kappa"] is not None
                 else f"– ({a['n']} read)")
        size = f"{s['mean_change_mm']:+.1f} mm (n={s['n']})" if s["mean_change_mm"] is not None else "–"
        parts.append(f"<tr><td>{html.escape(m['model_id'] + ' ' + m['model_version'])}</td><td>{c['decided']}</td>"
                     f"<td>{_fmt(r['accepted_rate'], True)}</td><td>{_fmt(r['edited_rate'], True)}</td>"
                     f"<td>{_fmt(r['rejected_rate'], True)}</td><td>{c['unreviewed']}</td><td>{c['accepted-unseen']}</td>"
                     f"<td>{html.escape(kappa)}</td><td>{html.escape(size)}</td></tr>")
    parts.append("</table>")
    for spec in figures(report):
        png = base64.b64encode(figure_png(spec)).decode("ascii")
        parts.append(f"<h3>{html.escape(spec['title'])}</h3><img alt='{html.escape(spec['id'])}' "
                     f"src='data:image/png;base64,{png}'>")
    parts.append("<p>Rates are of the findings a reader decided on; findings accepted without review are not "
                 "decisions. Agreement counts a model run on a series once its findings are all decided.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_reports(report: dict, html_path: Path | None, json_path: Path | None, generated: str) -> list[Path]:
    """Write the HTML page and/or the JSON; returns the paths written."""
    written = []
    if html_path is not None:
        Path(html_path).write_text(report_html(report, generated), encoding="utf-8")
        written.append(Path(html_path))
    if json_path is not None:
        Path(json_path).write_text(report_json(report), encoding="utf-8")
        written.append(Path(json_path))
    return written
