"""*Background map…*: what every coordinator's canvas and every meeting PDF stands on, chosen once.

None, OpenStreetMap (online), a layer of the current project (an XYZ/WMS/WMTS service or a file
added the usual QGIS way) or a file. Kept with the database (``maps.background``), so every
login and every scheduled PDF uses the same map with the same attribution.
"""

from __future__ import annotations

from typing import Any

from qgis.gui import QgsFileWidget, QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ...domain.errors import EstError
from ...domain.i18n import tr
from ...maps.background import Background
from ..shared.widgets import hint_label, named

CHOICES = ("none", "osm", "layer", "file")


class BackgroundDialog(QDialog):
    def __init__(self, store: Any, user: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.user = store, user
        self.setWindowTitle(tr("background.title"))
        self.buttons = QButtonGroup(self)
        self.radio: dict[str, QRadioButton] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(hint_label("background_hint", tr("background.hint")))
        for index, key in enumerate(CHOICES):
            radio = named(QRadioButton(tr(f"background.{key}")), f"background_{key}")
            self.buttons.addButton(radio, index)
            self.radio[key] = radio
            layout.addWidget(radio)
            if key == "layer":
                self.layer_combo = named(QgsMapLayerComboBox(), "background_layer")
                self.layer_combo.setAllowEmptyLayer(True)
                layout.addWidget(self.layer_combo)
            if key == "file":
                self.file_widget = named(QgsFileWidget(), "background_file")
                self.file_widget.setFilter(tr("background.file_filter"))
                layout.addWidget(self.file_widget)
        form = QFormLayout()
        self.attribution = named(QLineEdit(), "background_attribution")
        form.addRow(tr("background.attribution"), self.attribution)
        layout.addLayout(form)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        self._show(Background.of(store))

    def _show(self, current: Background | None) -> None:
        if current is None:
            self.radio["none"].setChecked(True)
            return
        self.attribution.setText(current.attribution)
        if current == Background.openstreetmap():
            self.radio["osm"].setChecked(True)
        elif current.provider in ("ogr", "gdal") and "://" not in current.source:
            self.radio["file"].setChecked(True)
            self.file_widget.setFilePath(current.source.split("|")[0])
        else:
            self.radio["layer"].setChecked(True)

    def chosen(self) -> Background | None:
        """What the dialog says now; raises EstError with the reason when it cannot be used."""
        key = CHOICES[max(self.buttons.checkedId(), 0)]
        attribution = self.attribution.text().strip()
        if key == "none":
            return None
        if key == "osm":
            osm = Background.openstreetmap()
            return Background(osm.name, osm.source, osm.provider, attribution or osm.attribution)
        if key == "layer":
            layer = self.layer_combo.currentLayer()
            if layer is None:
                raise EstError("background_missing")
            return Background.of_layer(layer, attribution)
        path = self.file_widget.filePath().strip()
        if not path:
            raise EstError("background_missing")
        from qgis.core import QgsRasterLayer, QgsVectorLayer

        raster = QgsRasterLayer(path, "probe", "gdal")
        provider = "gdal" if raster.isValid() else "ogr"
        if provider == "ogr" and not QgsVectorLayer(path, "probe", "ogr").isValid():
            raise EstError("background_unreadable", path=path)
        from pathlib import Path

        return Background(Path(path).stem, path, provider, attribution)

    def accept(self) -> None:  # noqa: D102 - Qt's name
        try:
            background = self.chosen()
            if background is not None and background.layer() is None:
                raise EstError("background_unreadable", path=background.source)
            if background is None:
                Background.clear(self.store, self.user)
            else:
                background.save(self.store, self.user)
        except EstError as error:
            QMessageBox.warning(self, tr("background.title"), error.message())
            return
        super().accept()
