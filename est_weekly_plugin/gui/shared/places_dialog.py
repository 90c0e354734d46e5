"""*Place and address search…*: which layers the report form's place field searches.

The municipality's address points (a street field and a house-number field, or one field with the
whole address) so "Kullagatan 10" finds the house, and a layer of named places (parks, squares,
schools) for "Dalhems skatepark"; without them the shipped district points. Kept in the user's QGIS
settings by source, so every project finds them.
"""

from __future__ import annotations

from typing import Any

from qgis.core import QgsFieldProxyModel, QgsMapLayerProxyModel
from qgis.gui import QgsFieldComboBox, QgsMapLayerComboBox
from qgis.PyQt.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QVBoxLayout, QWidget

from ...domain.i18n import tr
from ...maps.places import online_geocoder
from .widgets import hint_label, named


class PlacesDialog(QDialog):
    def __init__(self, settings: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle(tr("places.title"))
        layout = QVBoxLayout(self)
        layout.addWidget(hint_label("places_hint", tr("places.hint")))

        addresses = QGroupBox(tr("places.addresses"))
        form = QFormLayout(addresses)
        self.address_layer = named(QgsMapLayerComboBox(), "address_layer")
        self.address_layer.setFilters(QgsMapLayerProxyModel.Filter.PointLayer)
        self.address_layer.setAllowEmptyLayer(True)
        self.street_field = named(QgsFieldComboBox(), "address_street")
        self.street_field.setFilters(QgsFieldProxyModel.Filter.String)
        self.number_field = named(QgsFieldComboBox(), "address_number")
        self.number_field.setAllowEmptyFieldName(True)
        self.address_layer.layerChanged.connect(self.street_field.setLayer)
        self.address_layer.layerChanged.connect(self.number_field.setLayer)
        form.addRow(tr("places.layer"), self.address_layer)
        form.addRow(tr("places.street"), self.street_field)
        form.addRow(tr("places.number"), self.number_field)
        layout.addWidget(addresses)

        places = QGroupBox(tr("places.places"))
        form = QFormLayout(places)
        self.place_layer = named(QgsMapLayerComboBox(), "place_layer")
        self.place_layer.setAllowEmptyLayer(True)
        self.place_field = named(QgsFieldComboBox(), "place_field")
        self.place_field.setFilters(QgsFieldProxyModel.Filter.String)
        self.place_layer.layerChanged.connect(self.place_field.setLayer)
        form.addRow(tr("places.layer"), self.place_layer)
        form.addRow(tr("places.name"), self.place_field)
        layout.addWidget(places)

        self.online = named(QCheckBox(tr("places.online")), "online_geocoder")
        self.online.setToolTip(tr("places.online.tip"))
        self.online.setChecked(bool(settings.online_geocoder))
        self.online.setEnabled(online_geocoder() is not None)  # QGIS 3.20 and later
        layout.addWidget(self.online)

        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        self.address_layer.setLayer(None)
        self.place_layer.setLayer(None)

    def accept(self) -> None:  # noqa: D102 - Qt's name
        settings = self.settings
        layer = self.address_layer.currentLayer()
        settings.address_source = layer.source() if layer is not None else ""
        settings.address_provider = layer.providerType() if layer is not None else ""
        settings.address_street_field = self.street_field.currentField() if layer is not None else ""
        settings.address_number_field = self.number_field.currentField() if layer is not None else ""
        places = self.place_layer.currentLayer()
        settings.place_layer_id = places.id() if places is not None else ""
        settings.place_field = self.place_field.currentField() if places is not None else ""
        settings.online_geocoder = self.online.isChecked()
        settings.save()
        super().accept()
