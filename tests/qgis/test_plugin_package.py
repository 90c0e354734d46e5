"""The built ZIP installs into an empty QGIS profile and loads, starts and unloads cleanly; it ships
the vendored pyqtgraph (only the parts the charts use, with its licence) and nothing development-only."""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from qgis_shell import ShellInterface

from scripts import package, vendor

VENDORED = "est_weekly_plugin/_vendor/pyqtgraph"


@pytest.fixture
def shell(qgis_iface, qgis_canvas):  # noqa: ANN001, ANN201
    from qgis.PyQt.QtWidgets import QMainWindow

    window = QMainWindow()  # the session's canvas is not reparented: it outlives this window
    return ShellInterface(qgis_canvas, qgis_iface.messageBar(), window)


@pytest.fixture
def installed_plugin(tmp_path):  # noqa: ANN001, ANN201
    """The ZIP unpacked into a fresh profile; the source tree's package is hidden meanwhile."""
    archive = package.build(tmp_path / "dist")
    plugins = tmp_path / "profiles" / "default" / "python" / "plugins"
    package.deploy(archive, plugins)
    hidden = {name: module for name, module in sys.modules.items() if name.startswith("est_weekly_plugin")}
    for name in hidden:
        del sys.modules[name]
    sys.path.insert(0, str(plugins))
    yield plugins
    sys.path.remove(str(plugins))
    for name in [n for n in sys.modules if n.startswith("est_weekly_plugin")]:
        del sys.modules[name]
    sys.modules.update(hidden)


def test_zip_contents_and_metadata(tmp_path):
    archive = package.build(tmp_path)
    names = zipfile.ZipFile(archive).namelist()
    assert "est_weekly_plugin/__init__.py" in names
    assert "est_weekly_plugin/metadata.txt" in names
    assert "est_weekly_plugin/resources/data/categories.csv" in names
    assert "est_weekly_plugin/resources/i18n/core.sv.json" in names
    assert not [n for n in names if "/tests/" in n or n.endswith(".pyc") or "__pycache__" in n]
    assert not [n for n in names if "ext_libs" in n]  # the old sys.path-appended bundle is gone
    metadata = configparser.ConfigParser(interpolation=None)
    metadata.read_string(zipfile.ZipFile(archive).read("est_weekly_plugin/metadata.txt").decode("utf-8"))
    general = metadata["general"]
    for key in ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
                "repository", "tracker", "tags", "icon", "changelog"):
        assert general.get(key), key
    assert general["qgisMinimumVersion"] == "3.22"
    assert f"est_weekly_plugin/{general['icon']}" in names


def test_plugin_loads_starts_and_unloads_through_qgis_utils(installed_plugin, shell, qgis_new_project):
    import qgis.utils
    from qgis.core import Qgis

    qgis.utils.iface = shell
    qgis.utils.plugin_paths = [str(installed_plugin)]
    qgis.utils.updateAvailablePlugins()
    assert "est_weekly_plugin" in qgis.utils.available_plugins
    assert qgis.utils.loadPlugin("est_weekly_plugin")
    loaded_from = sys.modules["est_weekly_plugin"].__file__
    assert loaded_from.startswith(str(installed_plugin))
    minimum = qgis.utils.pluginMetadata("est_weekly_plugin", "qgisMinimumVersion")
    assert int(minimum.replace(".", "")) * 100 <= Qgis.QGIS_VERSION_INT
    assert qgis.utils.startPlugin("est_weekly_plugin")
    from qgis.core import QgsApplication

    provider = QgsApplication.processingRegistry().providerById("est_weekly")
    assert provider is not None and len(provider.algorithms()) >= 4

    menu = shell.plugin_submenu("&EST Weekly")
    assert menu is not None
    texts = [a.text() for a in menu.actions()]
    # The installed copy follows the language QGIS runs in ("C" here): English, as QGIS does.
    assert "New EST database…" in texts and "Connect to EST on PostGIS…" in texts
    toolbar = [t for t in shell.toolbars() if t.objectName() == "EstWeeklyToolbar"]
    assert len(toolbar) == 1 and len(toolbar[0].actions()) == len(texts)
    assert all(not a.icon().isNull() for a in toolbar[0].actions())

    assert qgis.utils.unloadPlugin("est_weekly_plugin")
    assert shell.plugin_submenu("&EST Weekly") is None
    from qgis.PyQt.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not [t for t in shell.toolbars() if t.objectName() == "EstWeeklyToolbar"]
    assert "est_weekly_plugin" not in qgis.utils.plugins
    assert QgsApplication.processingRegistry().providerById("est_weekly") is None


def test_plugin_opens_a_database_and_adds_the_styled_layer(shell, qgis_new_project, tmp_path):
    from qgis.core import Qgis, QgsProject

    from est_weekly_plugin.maps.layers import find_layers
    from est_weekly_plugin.plugin import EstWeeklyPlugin
    from est_weekly_plugin.store import GeoPackageStore

    GeoPackageStore.create(tmp_path / "demo.gpkg").close()
    plugin = EstWeeklyPlugin(shell)
    plugin.initGui()
    try:
        assert plugin.open_source(f"gpkg:{tmp_path / 'demo.gpkg'}")
        layers = find_layers("events", QgsProject.instance())
        assert len(layers) == 1 and layers[0].isValid()
        assert layers[0].subsetString() == "status = 'approved' AND coalesce(location_precision, 'point') IN ('point', 'street')"
        assert len(layers[0].renderer().categories()) == 14
        source, _ = QgsProject.instance().readEntry("est_weekly", "source", "")
        assert source == f"gpkg:{tmp_path / 'demo.gpkg'}"
        assert not plugin.open_source(f"gpkg:{tmp_path / 'saknas.gpkg'}")
        shown = " ".join(shell.messageBar().get_messages(Qgis.Critical))
        assert "saknas.gpkg does not exist" in shown
        assert plugin.session.store is not None  # the working database stays open
    finally:
        plugin.unload()


def test_zip_ships_the_pinned_pyqtgraph_without_its_unused_parts_and_no_dev_only_modules(tmp_path):
    archive = zipfile.ZipFile(package.build(tmp_path))
    names = archive.namelist()
    assert f"{VENDORED}/__init__.py" in names and f"{VENDORED}/exporters/ImageExporter.py" in names
    assert "MIT License" in archive.read(f"{VENDORED}/LICENSE.txt").decode("utf-8")
    version = re.search(r"__version__ = '([^']+)'", archive.read(f"{VENDORED}/__init__.py").decode("utf-8"))
    assert version and version.group(1) == vendor.pinned_version() == "0.13.3"
    for excluded in vendor.EXCLUDED:
        assert not [n for n in names if n.startswith(f"{VENDORED}/{excluded}/")], excluded
    assert f"{VENDORED}/colors/palette.py" in names  # colors/ stays, only its maps/ tables go
    for dev_only in package.DEV_ONLY:
        assert (package.ROOT / package.PACKAGE / dev_only).is_file(), f"stale DEV_ONLY entry {dev_only}"
        assert f"est_weekly_plugin/{dev_only}" not in names
    shipped = [n for n in names if n.startswith(VENDORED) and n.endswith(".py")]
    assert not [n for n in shipped if vendor.ABSOLUTE_IMPORT.search(archive.read(n).decode("utf-8"))]
    # The unused subpackages were most of pyqtgraph: the vendored copy is well under half of it.
    installed = sum(p.stat().st_size for p in Path(vendor._source()[0]).rglob("*") if p.is_file())
    assert sum(archive.getinfo(n).file_size for n in names if n.startswith(VENDORED)) < installed / 2


def test_vendoring_writes_only_changes_removes_strays_and_refuses_absolute_imports(tmp_path, monkeypatch):
    target = tmp_path / "pyqtgraph"
    version, written = vendor.vendor(target)
    assert version == vendor.pinned_version() and written > 100
    assert (target / "LICENSE.txt").is_file() and not (target / "opengl").exists()
    (target / "stray.py").write_text("x = 1\n", encoding="utf-8")
    (target / "opengl").mkdir()
    (target / "opengl" / "__init__.py").write_text("", encoding="utf-8")
    (target / "widgets" / "PlotWidget.py").write_text("from pyqtgraph import functions\n", encoding="utf-8")
    assert vendor.absolute_imports(target) == ["widgets/PlotWidget.py:1"]
    assert vendor.vendor(target) == (version, 1)  # PlotWidget.py restored; strays removed
    assert not (target / "stray.py").exists() and not (target / "opengl").exists()
    assert vendor.absolute_imports(target) == []
    # A pyqtgraph whose own code imports "pyqtgraph" absolutely would load the installed copy: refused.
    source = tmp_path / "source"
    source.mkdir()
    (source / "__init__.py").write_text("from .functions import mkPen\n", encoding="utf-8")
    (source / "functions.py").write_text("def mkPen():\n    import pyqtgraph.Qt\n", encoding="utf-8")
    monkeypatch.setattr(vendor, "_source", lambda: (source, version, b"licence"))
    with pytest.raises(vendor.VendorError, match=r"functions.py:2"):
        vendor.vendor(tmp_path / "other")


def test_a_shipped_module_importing_a_dev_only_one_fails_the_build(tmp_path, monkeypatch):
    gui = tmp_path / "est_weekly_plugin" / "gui"
    gui.mkdir(parents=True)
    (gui / "uses_demo.py").write_text("from ..store.demo import demo_batch\n", encoding="utf-8")
    (gui / "uses_module.py").write_text("from ..store import demo\n", encoding="utf-8")
    (gui / "fine.py").write_text("from ..store import gpkg\nfrom . import demo\n", encoding="utf-8")
    monkeypatch.setattr(package, "ROOT", tmp_path)
    found = package.dev_only_imports(sorted(gui.glob("*.py")))
    assert found == ["gui/uses_demo.py: est_weekly_plugin.store.demo", "gui/uses_module.py: est_weekly_plugin.store.demo"]


DRAW_WITH_A_DECOY = """
import json, sys
sys.path.insert(0, {plugins!r})
sys.path.insert(0, {decoy!r})  # first: an installed pyqtgraph that must never be used
from qgis.core import QgsApplication
app = QgsApplication([], True)
app.initQgis()
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QImage
from est_weekly_plugin.gui.compilation import charts
chart = charts.BarChart(horizontal=False)
chart.set_bars(["a", "b"], ["Alfa", "Beta"], [3, 7], ["#ff0000", "#0000ff"], value_label="events")
chart.resize(500, 350)
chart.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
chart.show()
for _ in range(3):
    app.processEvents()
png = charts.export_chart(chart, {out!r} + "/bars.png")
svg = charts.export_chart(chart, {out!r} + "/bars.svg")
image = QImage(str(png))
colours = {{image.pixelColor(x, y).name() for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}}
chart.dispose()
print(json.dumps({{
    "charts": charts.__file__, "pg": charts.pg.__file__, "top_level": "pyqtgraph" in sys.modules,
    "size": [image.width(), image.height()], "red": "#ff0000" in colours, "blue": "#0000ff" in colours,
    "svg": open(svg, encoding="utf-8").read().count("<path"),
}}))
"""


def test_the_installed_plugin_draws_charts_with_its_own_pyqtgraph_when_another_is_installed(tmp_path):
    plugins = package.deploy(package.build(tmp_path / "dist"), tmp_path / "plugins").parent
    decoy = tmp_path / "site" / "pyqtgraph"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text('raise ImportError("the installed pyqtgraph was imported")\n', encoding="utf-8")
    script = tmp_path / "draw.py"
    script.write_text(DRAW_WITH_A_DECOY.format(plugins=str(plugins), decoy=str(decoy.parent), out=str(tmp_path)),
                      encoding="utf-8")
    # -I: neither the source tree (cwd, PYTHONPATH) nor the user's site-packages are on sys.path
    run = subprocess.run([sys.executable, "-I", str(script)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["charts"].startswith(str(plugins)) and result["pg"].startswith(str(plugins / "est_weekly_plugin"))
    assert result["top_level"] is False
    assert result["size"] == [500, 350] and result["red"] and result["blue"]
    assert result["svg"] > 0
