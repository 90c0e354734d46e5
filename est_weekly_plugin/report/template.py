"""The meeting layout's template: the shipped ``.qpt`` files are its single source.

Items are found by id (``est_main_map``, ``est_title`` …), so GIS staff can move, restyle or drop
items in the layout designer and save their own template; a missing or broken user template falls
back to the built-in one with a warning. The item helpers here also build the priority pages
(and the development script ``scripts/make_templates.py`` that regenerates the ``.qpt`` files).
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsLayout,
    QgsLayoutFrame,
    QgsLayoutItem,
    QgsLayoutItemLabel,
    QgsLayoutItemManualTable,
    QgsLayoutItemMap,
    QgsLayoutItemPicture,
    QgsLayoutMultiFrame,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsLayoutTable,
    QgsPrintLayout,
    QgsProject,
    QgsReadWriteContext,
    QgsRectangle,
    QgsTextFormat,
    QgsUnitTypes,
)
from qgis.PyQt.QtGui import QColor, QFont
from qgis.PyQt.QtXml import QDomDocument

from ..domain.errors import EstError
from ..domain.i18n import tr
from ..domain.paths import resource
from ..domain.reference import municipality

FONT = "DejaVu Sans"


EST_BLUE = "#1f4e79"


REQUIRED_ITEMS = ("est_main_map",)


WIDTH_PROPERTY = "est_width_mm"


def builtin_template(paper: str) -> Path:
    return resource("layouts", f"est_meeting_{paper.lower()}.qpt")


def load_template(project: QgsProject, paper: str, template: Path | None = None,
                  lang: str | None = None) -> tuple[QgsPrintLayout, list[str]]:
    """The layout from the user's template, else the built-in one (with a warning why)."""
    warnings: list[str] = []
    if template is not None:
        layout, problem = _layout_from_qpt(project, Path(template))
        if layout is not None:
            return layout, warnings
        warnings.append(tr("report.template_fallback", lang, path=str(template), problem=problem))
    layout, problem = _layout_from_qpt(project, builtin_template(paper))
    if layout is None:  # the shipped template itself: a broken installation, not a user's mistake
        raise EstError("report_template_missing", path=str(builtin_template(paper)), problem=problem)
    return layout, warnings


def _layout_from_qpt(project: QgsProject, path: Path) -> tuple[QgsPrintLayout | None, str]:
    if not path.is_file():
        return None, "missing"
    document = QDomDocument()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, str(error)
    ok, message, line, _column = document.setContent(text)
    if not ok:
        return None, f"{message} (line {line})"
    layout = QgsPrintLayout(project)
    _items, ok = layout.loadFromTemplate(document, QgsReadWriteContext())
    if not ok:
        return None, "not a layout template"
    missing = [item for item in REQUIRED_ITEMS if layout.itemById(item) is None]
    if missing:
        return None, "no item " + ", ".join(missing)
    return layout, ""


def _label(layout: QgsLayout, item_id: str, rect: tuple[float, float, float, float], size: float, *,
           bold: bool = False, colour: str = "#202020", page: int = 0) -> QgsLayoutItemLabel:
    label = QgsLayoutItemLabel(layout)
    label.setId(item_id)
    _set_label_format(label, _text_format(size, bold, colour))
    label.setText(item_id)
    _place(layout, label, rect, page)
    return label


def _text_format(size: float, bold: bool = False, colour: str = "#202020") -> QgsTextFormat:
    text_format = QgsTextFormat()
    font = QFont(FONT)
    font.setBold(bold)
    text_format.setFont(font)
    text_format.setSize(size)
    text_format.setSizeUnit(QgsUnitTypes.RenderUnit.RenderPoints)
    text_format.setColor(QColor(colour))
    return text_format


def _set_label_format(label: QgsLayoutItemLabel, text_format: QgsTextFormat) -> None:
    """Label text style: QgsTextFormat on QGIS ≥ 3.24, font and colour on 3.22."""
    if hasattr(label, "setTextFormat"):
        label.setTextFormat(text_format)
    else:
        font = text_format.font()
        font.setPointSizeF(text_format.size())
        label.setFont(font)
        label.setFontColor(text_format.color())


def _place(layout: QgsLayout, item: QgsLayoutItem, rect: tuple[float, float, float, float], page: int = 0) -> None:
    x, y, w, h = rect
    layout.addLayoutItem(item)
    item.attemptResize(QgsLayoutSize(w, h, QgsUnitTypes.LayoutUnit.LayoutMillimeters))
    item.attemptMove(QgsLayoutPoint(x, y, QgsUnitTypes.LayoutUnit.LayoutMillimeters), True, False, page)


def _table(layout: QgsLayout, item_id: str, rect: tuple[float, float, float, float], page: int = 0
           ) -> QgsLayoutItemManualTable:
    table = QgsLayoutItemManualTable.create(layout)
    layout.addMultiFrame(table)
    frame = QgsLayoutFrame(layout, table)
    frame.setId(item_id)
    # A table frame shrinks to its columns; the width the columns share is kept here
    # (GIS staff can change it in the designer: Item properties → custom property).
    frame.setCustomProperty(WIDTH_PROPERTY, rect[2])
    _place(layout, frame, rect, page)
    table.addFrame(frame)
    table.setResizeMode(QgsLayoutMultiFrame.ResizeMode.UseExistingFrames)
    header, content = QgsTextFormat(), QgsTextFormat()
    for text_format, size, bold in ((header, 8.0, True), (content, 7.5, False)):
        font = QFont(FONT)
        font.setBold(bold)
        text_format.setFont(font)
        text_format.setSize(size)
        text_format.setSizeUnit(QgsUnitTypes.RenderUnit.RenderPoints)
    # Fonts, not text formats: QGIS 3.22 wraps text-format cells at the wrong width.
    for text_format, setter in ((header, table.setHeaderFont), (content, table.setContentFont)):
        font = text_format.font()
        font.setPointSizeF(text_format.size())
        setter(font)
    table.setCellMargin(0.9)
    table.setGridStrokeWidth(0.15)
    table.setGridColor(QColor("#b8c2cc"))
    table.setEmptyTableBehavior(QgsLayoutItemManualTable.EmptyTableMode.ShowMessage)
    # Cells are wrapped by _wrap: QGIS 3.22 wraps table text at a too narrow width.
    table.setWrapBehavior(QgsLayoutTable.WrapBehavior.TruncateText)
    return table


def _picture(layout: QgsLayout, item_id: str, rect: tuple[float, float, float, float], page: int = 0
             ) -> QgsLayoutItemPicture:
    picture = QgsLayoutItemPicture(layout)
    picture.setId(item_id)
    picture.setResizeMode(QgsLayoutItemPicture.ResizeMode.Zoom)
    _place(layout, picture, rect, page)
    return picture


def _map(layout: QgsLayout, item_id: str, rect: tuple[float, float, float, float], page: int = 0
         ) -> QgsLayoutItemMap:
    item = QgsLayoutItemMap(layout)
    item.setId(item_id)
    item.setFrameEnabled(True)
    item.setFrameStrokeColor(QColor("#7a8794"))
    item.setBackgroundColor(QColor("#eef2f5"))
    _place(layout, item, rect, page)
    item.setCrs(QgsCoordinateReferenceSystem(f"EPSG:{municipality()['epsg']}"))
    item.zoomToExtent(QgsRectangle(*municipality()["urban_core"]))
    return item
