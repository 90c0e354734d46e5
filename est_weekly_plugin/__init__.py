"""EST Weekly — QGIS plugin for the weekly EST meeting (Effektiv Samordning för Trygghet)."""


def classFactory(iface):  # noqa: N802, ANN001, ANN201 - QGIS's entry point name
    from .plugin import EstWeeklyPlugin

    return EstWeeklyPlugin(iface)
