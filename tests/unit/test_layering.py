"""The house's layers hold: each layer imports only the layers below it, and only ``gui/`` draws widgets.

domain ← store ← analysis ← maps ← report ← gui / processing (``plugin.py`` wires them together).
Headless code — everything a Processing algorithm or the meeting PDF runs — must not import
``qgis.gui``, QtWidgets or pyqtgraph, so it runs without a desktop and off the GUI thread.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "est_weekly_plugin"
ORDER = ("domain", "store", "analysis", "maps", "report", "processing", "gui")
# processing and gui are both on top, but processing must run without a desktop: it may not use gui.
ALLOWED = {layer: set(ORDER[: index + 1]) for index, layer in enumerate(ORDER)}
ALLOWED["processing"] = set(ORDER[:5]) | {"processing"}
WIDGET_MODULES = ("qgis.gui", "qgis.PyQt.QtWidgets", "PyQt5.QtWidgets", "pyqtgraph", "est_weekly_plugin._vendor", "qgis.utils")


def _layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else ""


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in *path*, relative ones resolved inside the package."""
    package = list(path.relative_to(PACKAGE).parent.parts)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(["est_weekly_plugin", *base, *([node.module] if node.module else [])])
                found += [(node.lineno, f"{module}.{alias.name}" if not node.module else module) for alias in node.names]
            else:
                found.append((node.lineno, node.module or ""))
    return found


def _modules() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py")) if "_vendor" not in path.parts]


def layering_offences() -> list[str]:
    offences = []
    for path in _modules():
        layer = _layer(path)
        if not layer:
            continue  # plugin.py and the package's __init__ wire the layers together
        for line, module in _imports(path):
            where = f"{path.relative_to(PACKAGE)}:{line}"
            if module.startswith("est_weekly_plugin."):
                target = module.split(".")[1]
                if target in ORDER and target not in ALLOWED[layer]:
                    offences.append(f"{where}: {layer} imports {module}")
            if layer != "gui" and module.startswith(WIDGET_MODULES):
                offences.append(f"{where}: headless {layer} imports widgets ({module})")
    return offences


def test_every_module_lives_in_a_layer() -> None:
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name not in {"__init__.py", "plugin.py"}]
    assert loose == []
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("__")} <= set(ORDER) | {"_vendor"}


def test_layers_import_only_what_lies_below_them_and_only_gui_draws_widgets() -> None:
    offences = layering_offences()
    assert offences == [], "\n".join(offences)


@pytest.mark.parametrize(("layer", "source", "offends"), [
    ("domain", "from ..store import base\n", True),
    ("store", "from ..domain import model\n", False),
    ("report", "from qgis.PyQt.QtWidgets import QWidget\n", True),
    ("analysis", "import pyqtgraph as pg\n", True),
    ("processing", "from ..gui.shared import widgets\n", True),
    ("gui", "from qgis.gui import QgsMapCanvas\n", False),
])
def test_the_rule_finds_what_it_looks_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layer: str, source: str,
                                          offends: bool) -> None:
    fake = tmp_path / "est_weekly_plugin"
    (fake / layer).mkdir(parents=True)
    (fake / layer / "probe.py").write_text(source, encoding="utf-8")
    monkeypatch.setitem(globals(), "PACKAGE", fake)
    assert bool(layering_offences()) is offends


MAX_LINES = 600


def test_no_module_is_a_god_module() -> None:
    """Issue #11: no module over 600 lines (complexity ≤ 12 is ruff's C901 in ``make lint``)."""
    long = {str(path.relative_to(PACKAGE)): n for path in _modules()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
