"""The background map: chosen once per database, read back by every client, refused when it
cannot be opened (nothing changes), and laid under the canvas when the database opens."""

from __future__ import annotations

import pytest
from qgis_shell import ShellInterface

from est_weekly_plugin.maps.background import BACKGROUND_KEY, Background, schematic_districts


@pytest.fixture
def shell(qgis_iface, qgis_canvas):  # noqa: ANN001, ANN201
    from qgis.PyQt.QtWidgets import QMainWindow

    return ShellInterface(qgis_canvas, qgis_iface.messageBar(), QMainWindow())


def test_a_background_is_kept_with_the_database_and_survives_hostile_settings(gpkg_store, tmp_path) -> None:
    assert Background.of(gpkg_store) is None
    osm = Background.openstreetmap()
    osm.save(gpkg_store, "anna")
    assert Background.of(gpkg_store) == osm and "OpenStreetMap" in osm.attribution
    for hostile in ('{"source": "x", "provider": "exec"}', "[1, 2]", "{nonsense", '{"provider": "ogr"}'):
        gpkg_store.set_setting(BACKGROUND_KEY, hostile, "mallory")
        assert Background.of(gpkg_store) is None
    with pytest.raises(ValueError):
        Background("x", "y", "python").save(gpkg_store)
    assert Background("gone", str(tmp_path / "missing.gpkg"), "ogr").layer() is None


def test_the_dialog_saves_a_file_and_refuses_what_it_cannot_open(gpkg_store, tmp_path, qgis_app, monkeypatch) -> None:
    from qgis.PyQt.QtWidgets import QMessageBox

    from est_weekly_plugin.gui.meeting.background_dialog import BackgroundDialog

    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: warnings.append(text))
    local = schematic_districts(str(tmp_path / "bg.gpkg"))
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"not a geopackage")
    dialog = BackgroundDialog(gpkg_store, "anna")
    dialog.radio["file"].setChecked(True)
    dialog.file_widget.setFilePath(str(broken))
    dialog.accept()
    assert warnings and "could not be opened" in warnings[0] and Background.of(gpkg_store) is None
    dialog.file_widget.setFilePath(str(tmp_path / "bg.gpkg"))
    dialog.attribution.setText("Helsingborgs stad")
    dialog.accept()
    stored = Background.of(gpkg_store)
    assert stored is not None and stored.provider == "ogr" and stored.attribution == "Helsingborgs stad"
    assert stored.layer().featureCount() == local.layer().featureCount() > 10
    again = BackgroundDialog(gpkg_store, "anna")  # shows what is stored
    assert again.radio["file"].isChecked() and again.attribution.text() == "Helsingborgs stad"
    again.radio["none"].setChecked(True)
    again.accept()
    assert Background.of(gpkg_store) is None


def test_opening_a_database_lays_its_background_under_the_map(shell, qgis_new_project, tmp_path) -> None:
    from qgis.core import QgsProject

    from est_weekly_plugin.maps.layers import find_layers
    from est_weekly_plugin.plugin import EstWeeklyPlugin
    from est_weekly_plugin.store import GeoPackageStore

    store = GeoPackageStore.create(tmp_path / "est.gpkg")
    schematic_districts(str(tmp_path / "bg.gpkg")).save(store)
    store.close()
    plugin = EstWeeklyPlugin(shell)
    plugin.initGui()
    try:
        assert plugin.open_source(f"gpkg:{tmp_path / 'est.gpkg'}")
        backgrounds = find_layers("background", QgsProject.instance())
        assert len(backgrounds) == 1 and backgrounds[0].isValid()
        children = QgsProject.instance().layerTreeRoot().children()
        assert children[-1].layerId() == backgrounds[0].id()  # at the bottom, under the events
        assert plugin.open_source(f"gpkg:{tmp_path / 'est.gpkg'}")
        assert len(find_layers("background", QgsProject.instance())) == 1  # replaced, not doubled
    finally:
        plugin.unload()
