"""`radview doctor` and Help > About: versions, the compute device, the models and their
checksums, the folders RadView writes and whether it can; optionally a model run."""

from __future__ import annotations

import platform
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from radview import __version__

PACKAGES = {  # distribution name -> import name (the fallback when metadata is not bundled)
    "numpy": "numpy", "pydicom": "pydicom", "highdicom": "highdicom", "python-gdcm": "gdcm",
    "pylibjpeg-openjpeg": "openjpeg", "pynetdicom": "pynetdicom", "dicomweb-client": "dicomweb_client",
    "PySide6-Essentials": "PySide6", "pyqtgraph": "pyqtgraph", "torch": "torch", "monai": "monai",
    "safetensors": "safetensors", "scipy": "scipy",
}


@dataclass
class DoctorReport:
    """Everything `radview doctor` prints; `problems` is empty when all is well."""

    radview: str
    python: str
    platform: str
    frozen: bool
    packages: dict[str, str]
    device: str = ""
    device_description: str = ""
    models: list[dict] = field(default_factory=list)
    refused_models: list[str] = field(default_factory=list)
    folders: list[dict] = field(default_factory=list)
    model_check: str = ""
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def package_version(distribution: str, module: str) -> str:
    from importlib import import_module
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        try:
            return str(getattr(import_module(module), "__version__", "present"))
        except Exception as error:  # a broken optional decoder must not stop the report
            return f"missing ({type(error).__name__})"


def writable(folder: Path) -> str:
    """"" when RadView can create files in `folder`, else why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".radview-doctor-"):
            pass
        return ""
    except OSError as error:
        return str(error)


def doctor_report(device_setting: str = "auto", model_folders: list[str] | None = None,
                  check_model: bool = False) -> DoctorReport:
    """Collect the report (imports torch: about a second)."""
    from radview.ai.device_report import check_model_runs, compute_device
    from radview.ai.registry import find_models
    from radview.user_dirs import data_dir, log_dir, settings_path

    report = DoctorReport(__version__, sys.version.split()[0], platform.platform(), bool(getattr(sys, "frozen", False)),
                          {name: package_version(name, module) for name, module in PACKAGES.items()})
    device = compute_device(device_setting)
    report.device, report.device_description = device.device, device.description
    cards, refused = find_models(model_folders)
    report.models = [{"id": c.id, "version": c.version, "sha256": c.weights_sha256, "checksum": "verified",
                      "folder": str(c.folder)} for c in cards]
    report.refused_models = [f"{r.folder}: {r.reason}" for r in refused]
    if not cards:
        report.problems.append("no model package was found: the AI cannot run")
    folders = {"settings": settings_path().parent, "study workspaces": data_dir(), "PACS cache": data_dir() / "cache",
               "logs": log_dir(), "temporary files": Path(tempfile.gettempdir())}
    for label, folder in folders.items():
        problem = writable(folder)
        report.folders.append({"what": label, "path": str(folder), "writable": not problem, "problem": problem})
        if problem:
            report.problems.append(f"{label} folder {folder} is not writable: {problem}")
    if check_model and cards:
        try:
            used, seconds = check_model_runs(cards[0], device_setting)
            report.model_check = f"{cards[0].id} {cards[0].version} ran on {used.upper()} in {seconds:.2f} s"
        except Exception as error:  # report it, whatever it is: this is the diagnosis tool
            report.model_check = f"FAILED: {cards[0].id}: {type(error).__name__}: {error}"
            report.problems.append(report.model_check)
    return report


def format_report(report: DoctorReport) -> str:
    """The report as lines of text for the terminal and the About box."""
    lines = [f"RadView {report.radview}{' (packaged)' if report.frozen else ''}, Python {report.python}, {report.platform}",
             f"AI device: {report.device_description}"]
    if report.model_check:
        lines.append(f"Model check: {report.model_check}")
    lines.append("Models:")
    lines += [f"  {m['id']} {m['version']}  sha256 {m['sha256'][:16]}... {m['checksum']}  ({m['folder']})"
              for m in report.models] or ["  none found"]
    lines += [f"  refused: {r}" for r in report.refused_models]
    lines.append("Folders:")
    lines += [f"  {f['what']}: {f['path']} ({'writable' if f['writable'] else 'NOT writable: ' + f['problem']})"
              for f in report.folders]
    lines.append("Packages: " + ", ".join(f"{k} {v}" for k, v in report.packages.items()))
    lines.append("No network is needed: models and the demo study are made and shipped locally.")
    lines.append("Problems: " + ("; ".join(report.problems) if report.problems else "none"))
    return "\n".join(lines)
