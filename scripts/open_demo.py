"""Run by `make qgis` (``qgis --code scripts/open_demo.py``): open the demo database in the plugin."""

from pathlib import Path

import qgis.utils

DEMO = Path.cwd() / "output" / "est_demo.gpkg"

plugin = qgis.utils.plugins.get("est_weekly_plugin")
if plugin is None:
    qgis.utils.loadPlugin("est_weekly_plugin")
    qgis.utils.startPlugin("est_weekly_plugin")
    plugin = qgis.utils.plugins["est_weekly_plugin"]
if plugin.open_source(f"gpkg:{DEMO}"):
    qgis.utils.iface.mapCanvas().setExtent(qgis.utils.iface.activeLayer().extent()
                                           if qgis.utils.iface.activeLayer() else qgis.utils.iface.mapCanvas().extent())
    plugin.toggle_dock("reporting")
