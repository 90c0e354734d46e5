"""How long the interface freezes: the longest stall of QGIS's event loop during what users do.

A 5 ms timer ticks on the GUI thread while the plugin opens the demo database with all four
docks open, changes the compilation's filter, exports the meeting PDF and opens the layout designer; the longest gap between two
ticks is the longest time the interface could not repaint or react. The target is 100 ms. QGIS's
own reference in the same run: opening the same GeoPackage's events layer with the stock
``QgsVectorLayer`` and adding it to the project (what "Add layer" does), timed the same way.

    python -m bench.freeze [--gpkg output/est_demo.gpkg]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pytest_qgis.mock_qgis_classes import MockMessageBar  # noqa: E402 - the tests' QGIS interface stand-in
from pytest_qgis.qgis_interface import QgisInterface  # noqa: E402
from qgis.core import QgsApplication, QgsPrintLayout, QgsProject, QgsReadWriteContext, QgsVectorLayer  # noqa: E402
from qgis.gui import QgsMapCanvas  # noqa: E402
from qgis.PyQt.QtCore import QCoreApplication, QElapsedTimer, QTimer  # noqa: E402
from qgis.PyQt.QtWidgets import QMainWindow  # noqa: E402
from qgis.PyQt.QtXml import QDomDocument  # noqa: E402

TARGET_MS = 100.0


class StallWatch:
    """The longest gap between ticks of a fast timer on the GUI thread."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.longest = 0.0
        self.last = 0.0

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def measure(self, action: Callable[[], object], until: Callable[[], bool], timeout_s: float = 60.0) -> tuple[float, float]:
        """(longest stall, total time) in ms of *action* and the event processing until *until*()."""
        self.longest, self.last = 0.0, 0.0
        self.clock.start()
        self.timer.start()
        QCoreApplication.processEvents()
        self.last = self.clock.nsecsElapsed() / 1e6
        QTimer.singleShot(0, action)
        start = time.perf_counter()
        while time.perf_counter() - start < timeout_s:
            QCoreApplication.processEvents()
            if until():
                break
            time.sleep(0.001)
        # a little longer: work the action queued for later turns of the loop counts too
        settle = time.perf_counter()
        while time.perf_counter() - settle < 0.5:
            QCoreApplication.processEvents()
            time.sleep(0.001)
        self.timer.stop()
        self._tick()
        return self.longest, (time.perf_counter() - start) * 1000 - 500


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gpkg", default="output/est_demo.gpkg")
    args = parser.parse_args()
    app = QgsApplication([], True)
    app.initQgis()
    from est_weekly_plugin.plugin import EstWeeklyPlugin
    from est_weekly_plugin.report.template import builtin_template

    work = Path(tempfile.mkdtemp(prefix="est-freeze-"))
    database = work / "est.gpkg"
    shutil.copy(args.gpkg, database)
    window = QMainWindow()
    canvas = QgsMapCanvas(window)
    window.setCentralWidget(canvas)
    window.resize(1600, 1000)
    iface = QgisInterface(canvas, MockMessageBar(), window)
    iface.removeDockWidget = lambda dock: dock.setParent(None)  # the stand-in lacks it
    plugin = EstWeeklyPlugin(iface)
    plugin.session.settings.save = lambda: None
    plugin.initGui()
    for key in ("reporting", "review", "compilation", "meeting"):
        plugin.toggle_dock(key)
    window.show()
    watch = StallWatch()
    rows = []

    stall, total = watch.measure(lambda: QgsProject.instance().addMapLayer(
        QgsVectorLayer(f"{database}|layername=events", "events (QGIS)", "ogr")), lambda: True)
    rows.append(("QGIS: add the events layer", stall, total))
    QgsProject.instance().removeAllMapLayers()

    def idle() -> bool:
        return QgsApplication.taskManager().countActiveTasks() == 0

    stall, total = watch.measure(lambda: plugin.open_source(f"gpkg:{database}"),
                                 lambda: plugin.session.store is not None and idle())
    rows.append(("open the database, four docks open", stall, total))

    compilation = plugin.docks["compilation"]
    compilation.wait_until_idle()
    wider = replace(compilation.filter, date_from=compilation.filter.date_from - dt.timedelta(weeks=8), preset="custom")
    def shown() -> bool:
        return compilation.result is not None and compilation.result.filter.to_dict() == wider.to_dict()

    stall, total = watch.measure(lambda: compilation.set_filter(wider), shown)
    rows.append(("change the compilation filter (12 weeks)", stall, total))

    meeting = plugin.docks["meeting"]
    pdf = work / "meeting.pdf"
    stall, total = watch.measure(lambda: meeting.export_pdf(pdf), lambda: pdf.exists() and idle())
    rows.append(("export the meeting PDF", stall, total))

    stall, total = watch.measure(meeting.open_designer, lambda: idle() and not meeting.busy())
    rows.append(("open the layout designer", stall, total))

    def load_template() -> None:  # what QGIS's own "New layout from template" does on the GUI thread
        document = QDomDocument()
        document.setContent(builtin_template("A3").read_text(encoding="utf-8"))
        QgsPrintLayout(QgsProject.instance()).loadFromTemplate(document, QgsReadWriteContext())

    stall, total = watch.measure(load_template, lambda: True)
    rows.append(("QGIS: new layout from the meeting template", stall, total))

    print(f"{'action':40} {'longest freeze ms':>18} {'total ms':>10}  target ≤ {TARGET_MS:.0f} ms")
    for name, stall, total in rows:
        print(f"{name:40} {stall:18.0f} {total:10.0f}  {'ok' if stall <= TARGET_MS else 'OVER'}")
    layer_reference, template_reference = rows[0][1], rows[-1][1]
    for name, stall, _total in rows[1:-2]:
        print(f"ratio to QGIS adding the layer, {name}: {stall / max(layer_reference, 1.0):.1f}×")
    print(f"ratio to QGIS's new layout from the template, open the layout designer: "
          f"{rows[-2][1] / max(template_reference, 1.0):.1f}×")
    for dock in plugin.docks.values():  # free the chart scenes before Qt tears the widgets down
        getattr(dock, "shutdown", lambda: None)()
    plugin.session.close()
    sys.stdout.flush()
    os._exit(0)  # PyQt's interpreter teardown of a QGIS application can crash; the figures are out


if __name__ == "__main__":
    main()
