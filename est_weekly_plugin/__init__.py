"""EST Weekly — QGIS plugin for the weekly EST meeting (Effektiv Samordning för Trygghet)."""

import sys
from pathlib import Path

# Pure-Python dependencies bundled into the ZIP at build time (pyqtgraph). Appended, so a
# copy already installed in the user's QGIS wins.
_EXT_LIBS = Path(__file__).resolve().parent / "ext_libs"
if _EXT_LIBS.is_dir() and str(_EXT_LIBS) not in sys.path:
    sys.path.append(str(_EXT_LIBS))


def classFactory(iface):  # noqa: N802, ANN001, ANN201 - QGIS's entry point name
    from .plugin import EstWeeklyPlugin

    return EstWeeklyPlugin(iface)
