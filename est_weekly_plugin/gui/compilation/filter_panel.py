"""The compilation's filter panel: organisation, category, weekday, time of day, dates and place.

Why one panel emitting whole filters: every widget edits one :class:`CompilationFilter`,
and the panel emits the complete filter on each change, so the dock can push it on an
undo stack, store it in the project and send it to the engine without knowing which widget
moved. ``set_filter`` updates the widgets without emitting (used by undo and by chart clicks).
"""

from __future__ import annotations

import datetime as dt
from typing import Dict, List, Optional, Sequence

from qgis.PyQt.QtCore import QDate, Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...analysis.filters import PRESETS, CompilationFilter, date_preset
from ...domain.i18n import tr
from ...domain.model import Category, Organisation
from ...domain.reference import District


def _wrapped(text: str) -> QLabel:
    """A label that wraps rather than widen a narrow dock."""
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def _check_list(height: int = 120) -> QListWidget:
    widget = QListWidget()
    widget.setMaximumHeight(height)
    widget.setUniformItemSizes(True)
    return widget


def _fill(widget: QListWidget, items: Sequence[tuple]) -> None:
    widget.clear()
    for code, text in items:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, code)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        widget.addItem(item)


def _checked(widget: QListWidget) -> List[str]:
    return [str(widget.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(widget.count())
            if widget.item(i).checkState() == Qt.CheckState.Checked]


def _set_checked(widget: QListWidget, codes: Sequence[str]) -> None:
    wanted = set(codes)
    for i in range(widget.count()):
        item = widget.item(i)
        item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in wanted
                           else Qt.CheckState.Unchecked)


class FilterPanel(QWidget):
    """Widgets for every criterion; ``filterChanged`` carries the complete new filter."""

    filterChanged = pyqtSignal(object)  # CompilationFilter
    placeRequested = pyqtSignal(str)  # "draw" | "extent" | "selection"
    saveRequested = pyqtSignal(str)  # name
    loadRequested = pyqtSignal(str)

    def __init__(self, today: Optional[dt.date] = None, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.today = today or dt.date.today()
        self._updating = False
        self._place_wkt: Optional[str] = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-weight: bold; padding: 4px; background: #eef3f8; border-radius: 3px;")
        layout.addWidget(self.summary)

        what = QGroupBox(tr("compilation.panel.what"))
        what_layout = QVBoxLayout(what)
        self.categories = _check_list(150)
        self.organisations = _check_list(110)
        what_layout.addWidget(_wrapped(tr("compilation.panel.categories")))
        what_layout.addWidget(self.categories)
        what_layout.addWidget(_wrapped(tr("compilation.panel.organisations")))
        what_layout.addWidget(self.organisations)
        layout.addWidget(what)

        when = QGroupBox(tr("compilation.panel.when"))
        form = QFormLayout(when)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow docks: fields under their labels
        self.preset = QComboBox()
        self.preset.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset.setMinimumContentsLength(10)  # narrow docks: the combo shrinks, the text elides
        for preset in PRESETS:
            self.preset.addItem(tr(f"compilation.preset.{preset}"), preset)
        self.preset.addItem(tr("compilation.preset.all"), "all")
        form.addRow(tr("compilation.panel.period"), self.preset)
        dates = QVBoxLayout()  # from above to: side by side they would widen a narrow dock
        self.date_from = QDateEdit(calendarPopup=True)
        self.date_to = QDateEdit(calendarPopup=True)
        first, last = date_preset("last_4_weeks", self.today)  # never Qt's 2000-01-01, even when disabled
        for edit, value in ((self.date_from, first), (self.date_to, last)):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setDate(QDate(value))
            dates.addWidget(edit)
        form.addRow(tr("compilation.panel.dates"), dates)
        # Two rows of weekdays: seven in one row need ~570 px and would scroll a 560 px dock sideways.
        days = QGridLayout()
        days.setHorizontalSpacing(6)
        days.setVerticalSpacing(2)
        self.weekdays: List[QCheckBox] = []
        for index, name in enumerate(tr("compilation.weekdays.short").split(",")):
            box = QCheckBox(name)
            self.weekdays.append(box)
            days.addWidget(box, index // 4, index % 4)
        form.addRow(tr("compilation.panel.weekdays"), days)
        hours = QHBoxLayout()
        self.hours_enabled = QCheckBox(tr("compilation.panel.hours_only"))
        self.hour_start = QSpinBox()
        self.hour_start.setRange(0, 23)
        self.hour_start.setValue(22)
        self.hour_end = QSpinBox()
        self.hour_end.setRange(0, 24)
        self.hour_end.setValue(4)
        for widget in (self.hours_enabled, self.hour_start, QLabel("–"), self.hour_end):
            hours.addWidget(widget)
        form.addRow(tr("compilation.panel.hours"), hours)
        self.method = QLabel(tr("compilation.aoristic.method"))
        self.method.setWordWrap(True)
        self.method.setStyleSheet("color: #555; font-size: 8pt;")
        form.addRow(self.method)
        layout.addWidget(when)

        where = QGroupBox(tr("compilation.panel.where"))
        where_layout = QVBoxLayout(where)
        self.districts = _check_list(110)
        where_layout.addWidget(self.districts)
        place_grid = QGridLayout()
        self.draw_place = QPushButton(tr("compilation.panel.draw_place"))
        self.draw_place.setCheckable(True)  # checked while the drawing tool is the canvas's tool
        self.draw_place.setToolTip(tr("compilation.panel.draw_place_tip"))
        self.use_extent = QPushButton(tr("compilation.panel.use_extent"))
        self.use_selection = QPushButton(tr("compilation.panel.use_selection"))
        self.clear_place = QPushButton(tr("compilation.panel.clear_place"))
        # one button a row: two side by side do not fit a dock of QGIS's default width
        for index, button in enumerate((self.draw_place, self.use_extent, self.use_selection, self.clear_place)):
            place_grid.addWidget(button, index, 0)
        where_layout.addLayout(place_grid)
        self.place_label = QLabel()
        self.place_label.setWordWrap(True)  # "Begränsat till ett område på kartan." at 320 px
        where_layout.addWidget(self.place_label)
        layout.addWidget(where)

        saved = QGridLayout()
        self.saved = QComboBox()
        self.saved.setEditable(True)
        self.saved.lineEdit().setPlaceholderText(tr("compilation.panel.filter_name"))
        self.save_button = QPushButton(tr("compilation.panel.save"))
        self.load_button = QPushButton(tr("compilation.panel.load"))
        self.clear_button = QPushButton(tr("compilation.panel.clear_all"))
        saved.addWidget(self.saved, 0, 0, 1, 2)
        saved.addWidget(self.save_button, 1, 0)
        saved.addWidget(self.load_button, 1, 1)
        saved.addWidget(self.clear_button, 2, 0, 1, 2)
        saved.setColumnStretch(0, 1)
        saved.setColumnStretch(1, 1)
        layout.addLayout(saved)
        layout.addStretch(1)

        for widget in (self.categories, self.organisations, self.districts):
            widget.itemChanged.connect(self._changed)
        for box in self.weekdays:
            box.toggled.connect(self._changed)
        self.hours_enabled.toggled.connect(self._changed)
        self.hour_start.valueChanged.connect(self._changed)
        self.hour_end.valueChanged.connect(self._changed)
        self.preset.currentIndexChanged.connect(self._preset_changed)
        self.date_from.dateChanged.connect(self._dates_changed)
        self.date_to.dateChanged.connect(self._dates_changed)
        self.draw_place.clicked.connect(lambda: self.placeRequested.emit("draw"))
        self.use_extent.clicked.connect(lambda: self.placeRequested.emit("extent"))
        self.use_selection.clicked.connect(lambda: self.placeRequested.emit("selection"))
        self.clear_place.clicked.connect(lambda: self.set_place(None))
        self.clear_button.clicked.connect(lambda: self._emit(CompilationFilter()))
        self.save_button.clicked.connect(lambda: self.saveRequested.emit(self.saved.currentText().strip()))
        self.load_button.clicked.connect(lambda: self.loadRequested.emit(self.saved.currentText().strip()))
        self._labels: Dict[str, Dict[str, str]] = {"categories": {}, "organisations": {}, "districts": {}}
        self.set_filter(CompilationFilter())

    # -- reference data ----------------------------------------------------------------
    def set_reference(self, categories: Sequence[Category], organisations: Sequence[Organisation],
                      districts: Sequence[District], lang: Optional[str] = None) -> None:
        current = self.current_filter()
        self._updating = True
        _fill(self.categories, [(c.code, c.label(lang)) for c in categories])
        _fill(self.organisations, [(o.code, o.name(lang)) for o in organisations])
        _fill(self.districts, [(d.code, d.name) for d in districts])
        self._labels = {"categories": {c.code: c.label(lang) for c in categories},
                        "organisations": {o.code: o.name(lang) for o in organisations},
                        "districts": {d.code: d.name for d in districts}}
        self._updating = False
        self.set_filter(current)

    def set_saved_names(self, names: Sequence[str]) -> None:
        text = self.saved.currentText()
        self.saved.clear()
        self.saved.addItems(sorted(names))
        self.saved.setEditText(text)

    def describe(self, compilation_filter: CompilationFilter) -> str:
        return compilation_filter.describe(categories=self._labels["categories"],
                                           organisations=self._labels["organisations"],
                                           districts=self._labels["districts"])

    # -- filter <-> widgets ------------------------------------------------------------
    def current_filter(self) -> CompilationFilter:
        preset = str(self.preset.currentData() or "custom")
        date_from = date_to = None
        if preset != "all":
            date_from = self.date_from.date().toPyDate()
            date_to = self.date_to.date().toPyDate()
        hours = self.hours_enabled.isChecked()
        return CompilationFilter(
            organisations=_checked(self.organisations), categories=_checked(self.categories),
            weekdays=[i for i, box in enumerate(self.weekdays) if box.isChecked()],
            hour_start=self.hour_start.value() if hours else None, hour_end=self.hour_end.value() if hours else None,
            date_from=date_from, date_to=date_to, place_wkt=self._place_wkt, districts=_checked(self.districts),
            preset="custom" if preset == "all" else preset,
        )

    def set_filter(self, compilation_filter: CompilationFilter) -> None:
        """Show *compilation_filter* in the widgets without emitting ``filterChanged``."""
        f = compilation_filter
        self._updating = True
        try:
            _set_checked(self.categories, f.categories)
            _set_checked(self.organisations, f.organisations)
            _set_checked(self.districts, f.districts)
            for i, box in enumerate(self.weekdays):
                box.setChecked(i in f.weekdays)
            self.hours_enabled.setChecked(f.hour_start is not None)
            if f.hour_start is not None and f.hour_end is not None:
                self.hour_start.setValue(int(f.hour_start))
                self.hour_end.setValue(int(f.hour_end))
            if f.date_from is None and f.date_to is None:
                self.preset.setCurrentIndex(self.preset.findData("all"))
            else:
                self.preset.setCurrentIndex(self.preset.findData(f.preset))
                self.date_from.setDate(QDate(f.date_from or dt.date(2000, 1, 1)))
                self.date_to.setDate(QDate(f.date_to or self.today))
            enabled = self.preset.currentData() != "all"
            self.date_from.setEnabled(enabled)
            self.date_to.setEnabled(enabled)
            self._place_wkt = f.place_wkt
            self.place_label.setText(tr("compilation.panel.place_set") if f.place_wkt else "")
            self.summary.setText(self.describe(f))
        finally:
            self._updating = False

    def set_place(self, wkt: Optional[str]) -> None:
        self._place_wkt = wkt
        self._changed()

    # -- reactions ---------------------------------------------------------------------
    def _emit(self, compilation_filter: CompilationFilter) -> None:
        self.set_filter(compilation_filter)
        self.filterChanged.emit(compilation_filter)

    def _changed(self, *_args: object) -> None:
        if not self._updating:
            self._emit(self.current_filter())

    def _preset_changed(self, *_args: object) -> None:
        if self._updating:
            return
        preset = str(self.preset.currentData())
        f = self.current_filter()
        if preset == "all":
            data = f.to_dict()
            data.update(date_from=None, date_to=None, preset="custom")
            self._emit(CompilationFilter.from_dict(data))
        elif preset != "custom":
            self._emit(f.with_preset(preset, self.today))
        else:
            self._emit(f)

    def _dates_changed(self, *_args: object) -> None:
        if self._updating:
            return
        self._updating = True
        self.preset.setCurrentIndex(self.preset.findData("custom"))
        self._updating = False
        self._changed()
