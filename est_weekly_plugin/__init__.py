"""EST Weekly — QGIS plugin for the weekly EST meeting (Effektiv Samordning för Trygghet).

Its one pure-Python dependency, pyqtgraph, ships inside the package (``_vendor/``, made by
``scripts/vendor.py``) and is imported from there, so no ``sys.path`` change is needed and
another pyqtgraph installed in QGIS is never used.
"""


def classFactory(iface):  # noqa: N802, ANN001, ANN201 - QGIS's entry point name
    from .plugin import EstWeeklyPlugin

    return EstWeeklyPlugin(iface)
