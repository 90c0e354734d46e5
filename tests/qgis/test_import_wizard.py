"""The import wizard end to end (offscreen): a guard company's Windows-1252 file, mapped, previewed with
its problem rows, imported as a task; the profile saved and offered next time; the Processing algorithm."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TODAY  # noqa: F401 - the fixtures' clock

from est_weekly_plugin.domain.model import Status

DATA = Path(__file__).resolve().parents[1] / "data" / "import"


@pytest.fixture
def session(gpkg_store, qgis_app):  # noqa: ANN201
    from est_weekly_plugin.gui.shared.session import EstSession

    session = EstSession()
    session.set_store(gpkg_store)
    return session


def wait_for(wizard, page) -> None:  # noqa: ANN001
    from qgis.PyQt.QtCore import QCoreApplication

    for _ in range(20000):
        if page.done:
            return
        QCoreApplication.processEvents()
    raise AssertionError("the import task did not finish")


def test_wizard_imports_a_guard_spreadsheet(session, output_dir):
    from est_weekly_plugin.gui.importing.import_wizard import ImportWizard

    wizard = ImportWizard(session)
    wizard.resize(700, 550)
    wizard.show()
    source = wizard.source_page
    source.path.setText(str(DATA / "vakter_cp1252.csv"))
    wizard.grab().save(str(output_dir / "import_wizard_source.png"))
    wizard.next()
    wizard.wait_until_idle()  # read and planned in tasks
    assert wizard.currentPage() is wizard.mapping_page and wizard.table.encoding == "cp1252"
    mapping = wizard.mapping_page
    mapping.organisation.setCurrentIndex(mapping.organisation.findData("bevakning"))
    values = {mapping.values.item(r, 0).text(): mapping.values.cellWidget(r, 1) for r in range(mapping.values.rowCount())}
    assert values["Skadegörelse"].currentData() == "skadegorelse" and values["Okänd händelse"].currentData() == ""
    values["Okänd händelse"].setCurrentIndex(values["Okänd händelse"].findData("ovrigt"))
    mapping.profile_name.setText("Bevakning Nord")
    mapping.source_code.setText("bevakning_nord")
    wizard.grab().save(str(output_dir / "import_wizard_mapping.png"))
    assert mapping.save_profile() and "Bevakning Nord" in session.store.import_profiles()
    wizard.next()
    wizard.wait_until_idle()  # read and planned in tasks
    wizard.grab().save(str(output_dir / "import_wizard_location.png"))
    wizard.next()
    wizard.wait_until_idle()  # read and planned in tasks
    preview = wizard.preview_page
    assert "5 new" in preview.counts.text() and preview.problems.rowCount() == 3
    assert "xx:yy" in preview.problems.item(0, 1).text()
    wizard.grab().save(str(output_dir / "import_wizard_preview.png"))
    wizard.next()
    wizard.wait_until_idle()  # read and planned in tasks
    wait_for(wizard, wizard.run_page)
    assert "5 new, 0 already imported, 3 problem rows" in wizard.run_page.result.text()
    wizard.grab().save(str(output_dir / "import_wizard_done.png"))
    assert session.store.count(Status.SUBMITTED) == 5
    assert {e.source for e in session.store.events()} == {"bevakning_nord"}
    wizard.close()

    again = ImportWizard(session)  # next week: the saved profile is offered for the same columns
    again.show()
    again.source_page.path.setText(str(DATA / "vakter_cp1252.csv"))
    again.next()
    again.wait_until_idle()  # read and planned in tasks
    again.mapping_page.profile.setCurrentIndex(again.mapping_page.profile.findData("Bevakning Nord"))
    assert again.mapping_page.organisation.currentData() == "bevakning"
    again.next()
    again.wait_until_idle()  # read and planned in tasks
    again.next()
    again.wait_until_idle()  # read and planned in tasks
    assert "0 new, 5 already imported" in again.preview_page.counts.text()
    again.close()


def test_a_bad_file_is_refused_on_the_first_page(session, tmp_path):
    from est_weekly_plugin.gui.importing.import_wizard import ImportWizard

    broken = tmp_path / "trasig.gpkg"
    broken.write_bytes(b"\x00garbage" * 50)
    wizard = ImportWizard(session)
    wizard.show()
    wizard.source_page.path.setText(str(broken))
    wizard.next()
    wizard.wait_until_idle()  # read and planned in tasks
    assert wizard.currentPage() is wizard.source_page and "trasig.gpkg" in wizard.source_page.error.text()
    wizard.close()


def test_processing_algorithm_imports_police_events(gpkg_store, qgis_app):
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    from est_weekly_plugin.processing.import_events import ImportEvents

    algorithm = ImportEvents()
    algorithm.initAlgorithm()
    parameters = {"DATABASE": str(gpkg_store.path), "INPUT": str(DATA / "polisen_handelser.json"), "PROFILE": "police"}
    context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
    result = algorithm.processAlgorithm(parameters, context, feedback)
    assert result == {"NEW": 3, "ALREADY": 0, "PROBLEMS": 2, "NEAR": 0}
    again = algorithm.processAlgorithm(parameters, context, feedback)
    assert again["NEW"] == 0 and again["ALREADY"] == 3 and gpkg_store.count() == 3


def test_a_saved_profile_keeps_the_location_chosen_after_saving(session):
    from est_weekly_plugin.gui.importing.import_wizard import ImportWizard

    wizard = ImportWizard(session)
    wizard.show()
    wizard.source_page.path.setText(str(DATA / "vakter_cp1252.csv"))
    wizard.next()
    wizard.wait_until_idle()  # read and planned in tasks
    mapping = wizard.mapping_page
    mapping.profile_name.setText("Vakter syd")
    mapping.source_code.setText("vakter_syd")
    assert mapping.save_profile()
    wizard.next()
    wizard.wait_until_idle()  # read and planned in tasks
    location = wizard.location_page
    location.crs.setCurrentIndex(location.crs.findData("EPSG:3006"))
    wizard.next()
    wizard.wait_until_idle()  # read and planned in tasks
    assert session.store.import_profiles()["Vakter syd"]["crs"] == "EPSG:3006"
    wizard.close()
