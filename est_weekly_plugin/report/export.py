"""Exporting the meeting PDF and handing the filled layout to the layout designer.

The Processing algorithm, the meeting panel's task and ``make demo`` all go through
:func:`generate_report`, which builds the layout in a project of its own: it runs in whichever
thread calls it (the report task's worker, Processing's), never touching the user's project.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from pathlib import Path
from typing import Any

from qgis.core import (
    Qgis,
    QgsLayout,
    QgsLayoutExporter,
    QgsPrintLayout,
    QgsProject,
)

from ..domain.i18n import tr
from ..domain.model import EventColumns
from ..store.base import EventStore
from .data import ProgressCallback, ReportData, ReportOptions, ReportResult, compute_report
from .fill import build_layout, layout_stages, run_to_end

LOG = logging.getLogger(__name__)


def export_pdf(layout: QgsLayout, path: Path, dpi: int = 200) -> tuple[int, list[str]]:
    """Export *layout* to a PDF with real text (searchable, copyable); returns (pages, warnings)."""
    settings = QgsLayoutExporter.PdfExportSettings()
    settings.dpi = dpi
    settings.rasterizeWholeImage = False
    settings.forceVectorOutput = False
    settings.textRenderFormat = Qgis.TextRenderFormat.AlwaysText
    settings.appendGeoreference = False
    settings.exportMetadata = True
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    result = QgsLayoutExporter(layout).exportToPdf(str(path), settings)
    if result != QgsLayoutExporter.ExportResult.Success:
        from ..domain.errors import EstError

        raise EstError("report_export_failed", path=str(path), code=int(result))
    return layout.pageCollection().pageCount(), []


def generate_report(store: EventStore, options: ReportOptions, out: Path, *, columns: EventColumns | None = None,
                    progress: ProgressCallback | None = None, data: ReportData | None = None) -> ReportResult:
    """Compute, chart, fill and export: the one path Processing, the panel and ``make demo`` share."""
    data = data or compute_report(store, options, columns=columns, progress=progress)
    if progress:
        progress(0.8, tr("report.progress.export", data.lang))
    project = QgsProject()
    layout, warnings, _layers = build_layout(data, project)
    pages, export_warnings = export_pdf(layout, Path(out))
    if progress:
        progress(1.0, tr("report.progress.done", data.lang))
    for warning in warnings:
        LOG.warning(warning)
    return ReportResult(Path(out), pages, warnings + export_warnings, data)


def open_in_designer(data: ReportData, iface: Any) -> QgsPrintLayout:
    """Add the filled layout (and its layers, in a group) to the user's project and open the designer."""
    return run_to_end(designer_stages(data, iface))


def designer_stages(data: ReportData, iface: Any) -> Generator[None, None, QgsPrintLayout]:
    """:func:`open_in_designer` one short step at a time (GUI thread: the layout joins the user's
    project), so a caller can give each step its own turn of the event loop; returns the layout."""
    project = QgsProject.instance()
    root = project.layerTreeRoot()
    name = tr("report.layer_group", data.lang, week=data.week)
    previous = root.findGroup(name)
    if previous is not None:  # opened again: the new layout replaces the old one and its layers
        project.removeMapLayers([layer.layerId() for layer in previous.findLayers()])
        root.removeChildNode(previous)
    layout, warnings, layers = yield from layout_stages(data, project)
    group = root.insertGroup(0, name)
    for layer in layers:
        group.addLayer(layer)
    group.setItemVisibilityChecked(False)
    manager = project.layoutManager()
    existing = manager.layoutByName(layout.name())
    if existing is not None:
        manager.removeLayout(existing)
    manager.addLayout(layout)
    yield
    open_designer = getattr(iface, "openLayoutDesigner", None)  # absent on test and headless interfaces
    if callable(open_designer):
        open_designer(layout)
    for warning in warnings:
        LOG.warning(warning)
    return layout
