"""The compilation's hot-spot tab: the ranked hot-spot areas and how they were found.

Choosing an area (selecting or activating it) asks the dock to zoom the map there
(``zoomRequested`` with the area's cell: ``x``, ``y`` and ``polygon`` in the store CRS). A refill
after a new result keeps the chosen area selected without zooming again.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ...analysis.compilation import CompilationResult
from ...analysis.hotspot_areas import change_text, method_note
from ...domain.i18n import tr


def _cell_key(cell: Any) -> Any:
    """Which cell an item shows, rounded so a recomputed cell is the same one."""
    return (round(float(cell["x"]), 1), round(float(cell["y"]), 1)) if isinstance(cell, dict) else None


class CellList(QListWidget):
    """Grid cells or areas, one a line, each holding its cell (a dict) as data; choosing one asks for a zoom."""

    zoomRequested = pyqtSignal(dict)  # the chosen cell: x, y and its polygon (store CRS)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.itemSelectionChanged.connect(lambda: self._chosen(self.currentItem()))
        self.itemActivated.connect(self._chosen)

    def _chosen(self, item: Optional[QListWidgetItem]) -> None:
        if item is None or not item.isSelected():
            return
        cell = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(cell, dict):
            self.zoomRequested.emit(cell)

    def selected_key(self) -> Any:
        item = self.currentItem()
        if item is None or not item.isSelected():
            return None
        return _cell_key(item.data(Qt.ItemDataRole.UserRole))

    def refill(self, items: Iterable[QListWidgetItem]) -> None:
        """Show *items* instead, the cell chosen before chosen again, without zooming (signals blocked)."""
        key = self.selected_key()
        self.blockSignals(True)
        self.clear()
        for item in items:
            self.addItem(item)
        if key is not None:
            for i in range(self.count()):
                if _cell_key(self.item(i).data(Qt.ItemDataRole.UserRole)) == key:
                    self.setCurrentRow(i)
                    break
        self.blockSignals(False)


def hotspot_items(result: CompilationResult, categories: Iterable[Any]) -> list:
    """One line per hot-spot area: rank, place, count, change, main categories, weekday and hours."""
    if result.hotspots is None:
        return []
    labels = {c.code: c.label() for c in categories}
    weekdays = tr("compilation.weekdays.short").split(",")
    items = []
    for spot in result.hotspots.hotspots:
        band = f"{spot.hour_band[0]:02d}–{spot.hour_band[1] % 24:02d}" if spot.hour_band else "–"
        item = QListWidgetItem(tr(
            "compilation.dock.hotspot_line", rank=spot.rank, place=spot.label, count=spot.count,
            change=change_text(spot), categories=", ".join(labels.get(c, c) for c, _ in spot.categories[:2]),
            weekday=weekdays[spot.weekday] if spot.weekday is not None else "–", hours=band))
        item.setData(Qt.ItemDataRole.UserRole, {"x": spot.x, "y": spot.y, "polygon": list(spot.polygon)})
        item.setToolTip(tr("compilation.dock.hotspot_zoom"))
        items.append(item)
    return items


class HotspotsTab(QWidget):
    """The hot-spot list and, under it, the method and correction (or why nothing is significant)."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.list = CellList()
        self.zoomRequested = self.list.zoomRequested
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(mid);")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.list, 1)
        box.addWidget(self.note)

    def show_result(self, result: CompilationResult, engine: Any, categories: Iterable[Any]) -> None:
        """The ranked areas of *result* and the note on the method the engine used."""
        self.list.refill(hotspot_items(result, categories))
        self.note.setText(method_note(result.hotspots, engine.hotspot_cell, engine.hotspot_rings)
                          if engine is not None else "")
