"""The meeting PDF from demo data: pages, paper, non-blank map and charts, the table's numbers,
Swedish text, the empty week and template fallback. Pages are rendered with pdftoppm and read back."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from qgis.core import QgsLayoutItemLegend, QgsLayoutUtils, QgsLegendRenderer, QgsProject, QgsUnitTypes
from qgis.PyQt.QtGui import QColor, QImage

from est_weekly_plugin.domain import i18n
from est_weekly_plugin.domain.meetings import Priority
from est_weekly_plugin.report.data import ReportOptions, compute_report
from est_weekly_plugin.report.export import generate_report
from est_weekly_plugin.report.fill import build_layout
from est_weekly_plugin.report.template import builtin_template
from est_weekly_plugin.store import GeoPackageStore
from est_weekly_plugin.store.demo import demo_batch
from est_weekly_plugin.store.meetings import MeetingRepository

WEEK = "2026-W47"
DPI = 50
MM = DPI / 25.4


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory, qgis_app):
    path = tmp_path_factory.mktemp("report") / "demo.gpkg"
    store = GeoPackageStore.create(path)
    store.insert_batch(demo_batch(60_000, seed=48, end_date=dt.date(2026, 11, 22)), today=dt.date(2026, 11, 23))
    repo = MeetingRepository(store)
    before = repo.create_meeting("2026-W46", "anna")
    knut = repo.add_priority(before, Priority(kind="hotspot", rank=1, name="Knutpunkten norra entrén",
                                              wkt="POINT(356230 6213280)", radius_m=150.0,
                                              responsible=("polisen",), action="Kvällsrunda"), "anna")
    repo.set_follow_up(knut, "continue", "Fortsätter", "anna")
    meeting = repo.create_meeting(WEEK, "anna")
    repo.add_priority(meeting, Priority(kind="hotspot", rank=1, name="Dalhems skatepark", wkt="POINT(359710 6216590)",
                                        radius_m=200.0, categories=("skadegorelse", "klotter"),
                                        responsible=("polisen", "social"), action="Fältassistenter",
                                        time_focus="fre–lör 18–23"), "anna")
    repo.add_priority(meeting, Priority(kind="hotspot", rank=2, name="Stortorget",
                                        wkt="POLYGON((356300 6213650, 356550 6213650, 356550 6213880, "
                                            "356300 6213880, 356300 6213650))", responsible=("polisen",)), "anna")
    repo.add_priority(meeting, Priority(kind="focus", rank=1, name="Klotter", categories=("klotter",)), "anna")
    yield store
    store.close()


@pytest.fixture(scope="module")
def a3(demo_store, tmp_path_factory):
    i18n.set_language("sv")
    out = tmp_path_factory.mktemp("a3") / "meeting_a3.pdf"
    result = generate_report(demo_store, ReportOptions(week=WEEK, paper="A3", lang="sv"), out)
    i18n.set_language("en")
    return result


def _pdfinfo(path: Path) -> dict[str, str]:
    text = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _pages(path: Path) -> list[QImage]:
    prefix = path.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), str(path), str(prefix)], check=True)
    return [QImage(str(p)) for p in sorted(path.parent.glob(prefix.name + "-*.png"))]


def _text(path: Path, layout: bool = False) -> str:
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return text.replace("\ufb01", "fi").replace("\ufb02", "fl")  # Qt's PDF text keeps the fi/fl ligatures


def _region_stats(image: QImage, rect_mm: tuple[float, float, float, float]) -> tuple[float, float]:
    """(share of non-white pixels, share of heat-map red/orange pixels) inside a page region."""
    x, y, w, h = (int(v * MM) for v in rect_mm)
    inked = heat = total = 0
    for py in range(y, min(y + h, image.height()), 2):
        for px in range(x, min(x + w, image.width()), 2):
            colour = QColor(image.pixel(px, py))
            total += 1
            r, g, b = colour.red(), colour.green(), colour.blue()
            if r + g + b < 720:
                inked += 1
            if r > 200 and b < 140 and g < 215 and r - b > 80:
                heat += 1
    return inked / max(total, 1), heat / max(total, 1)


def test_a3_pages_size_and_content(a3) -> None:
    # overview + one page per priority with a place (the focus area has none)
    assert a3.pages == 3
    info = _pdfinfo(a3.path)
    assert info["Pages"].strip() == "3"
    assert "1191 x 842 pts (A3)" in info["Page size"]  # landscape
    images = _pages(a3.path)
    assert len(images) == 3
    inked, heat = _region_stats(images[0], (10, 31, 228, 163))  # main map
    assert inked > 0.05 and heat > 0.002, (inked, heat)
    for rect in ((246, 37, 164, 58), (246, 96, 164, 48), (246, 146, 164, 48)):  # the three charts
        assert _region_stats(images[0], rect)[0] > 0.03, rect
    # a priority page: the area's events as points on the map, not a heat-map blob …
    priority_inked, priority_heat = _region_stats(images[1], (10, 22, 260, 250))
    assert priority_inked > 0.01 and priority_heat < 0.02, (priority_inked, priority_heat)
    # … and its numbers add up: the week's count is the sum of its categories
    page = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(a3.path), "-"], capture_output=True, text=True,
                          check=True).stdout
    headline = int(re.search(r"Händelser denna vecka: (\d+)", page).group(1))
    listed = [int(n) for n in re.findall(r"•\s+[^:\n]+: (\d+)", page)]
    assert listed and sum(listed) == headline, (headline, listed)


@pytest.mark.parametrize("paper", ["A3", "A4"])
def test_legend_fits_its_box_with_the_heat_ramp_labels(a3, demo_store, paper: str) -> None:
    """The "low"/"high" labels under the heat ramp are inside the legend, not clipped at its bottom."""
    data = compute_report(demo_store, ReportOptions(week=WEEK, paper=paper, lang="sv"))
    assert data.heat_path is not None and data.heat_path.exists()
    project = QgsProject()
    layout, _warnings, _layers = build_layout(data, project)
    legend = layout.itemById("est_legend")
    assert isinstance(legend, QgsLayoutItemLegend)
    assert legend.model().rootGroup().children()[0].name() == "Händelsetäthet"  # the heat ramp comes first
    box = legend.sizeWithUnits()
    assert box.units() == QgsUnitTypes.LayoutUnit.LayoutMillimeters
    context = QgsLayoutUtils.createRenderContextForLayout(layout, None)
    needed = QgsLegendRenderer(legend.model(), legend.legendSettings()).minimumSize(context)  # mm
    assert needed.height() <= box.height(), (paper, needed.height(), box.height())
    assert "låg" in _text(a3.path) and "hög" in _text(a3.path)


def test_a3_text_is_swedish_and_table_holds_the_numbers(a3, demo_store) -> None:
    text = _text(a3.path)
    for expected in ("Skadegörelse", "vecka", "Helsingborg – EST vecka 47, 2026", "Topp 10 brännpunkter",
                     "Knutpunkten norra entrén", "Fortsätter", "Dalhems skatepark", "Fältassistenter"):
        assert expected in text, expected
    layout_text = _text(a3.path, layout=True)
    rows = a3.data.hotspots
    assert 5 <= len(rows) <= 10 and len({r.place for r in rows}) == len(rows)  # areas: no place twice
    for row in rows[:5]:
        pattern = rf"(?m)^\s*{row.spot.rank}\s+{re.escape(row.place)}\s+{re.escape(row.spot.district)}\s+{row.count}\s"
        assert re.search(pattern, layout_text), pattern
    # the numbers themselves: window counts of the week and the 4-week mean, recomputed here
    data = compute_report(demo_store, ReportOptions(week=WEEK, lang="sv"))
    assert [(r.spot.rank, r.count, r.baseline) for r in data.hotspots] == \
        [(r.spot.rank, r.count, r.baseline) for r in rows]
    assert str(len(data.week_columns)) in text


def test_a4_portrait_has_a_second_page_for_charts_and_priorities(demo_store, tmp_path) -> None:
    result = generate_report(demo_store, ReportOptions(week=WEEK, paper="A4", lang="en"), tmp_path / "a4.pdf")
    assert result.pages == 4
    assert "595 x 842 pts (A4)" in _pdfinfo(result.path)["Page size"]  # portrait
    text = _text(result.path)
    assert "Last week's priorities" in text and "Priorities for week 48" in text
    images = _pages(result.path)
    assert _region_stats(images[1], (10, 17, 190, 70))[0] > 0.03  # category chart on page 2


def test_week_without_events_says_so(demo_store, tmp_path) -> None:
    result = generate_report(demo_store, ReportOptions(week="2030-W10", lang="sv"), tmp_path / "empty.pdf")
    assert result.data.event_count == 0 and result.pages == 1
    text = " ".join(_text(result.path).split())
    assert "Inga händelser vecka 2030-W10 för detta urval" in text
    assert "Bara 0 händelser i analysområdet: minst 30 behövs innan en brännpunkt kan kallas signifikant" in text


def test_broken_or_missing_template_falls_back_with_a_warning(demo_store, tmp_path) -> None:
    broken = tmp_path / "broken.qpt"
    broken.write_text("<Layout><not closed", encoding="utf-8")
    result = generate_report(demo_store, ReportOptions(week=WEEK, template=broken, atlas=False), tmp_path / "b.pdf")
    assert result.pages == 1 and len(result.warnings) == 1 and "built-in template" in result.warnings[0]
    missing = generate_report(demo_store, ReportOptions(week=WEEK, template=tmp_path / "gone.qpt", atlas=False),
                              tmp_path / "m.pdf")
    assert missing.pages == 1 and "missing" in missing.warnings[0]


def test_user_template_is_used(demo_store, tmp_path) -> None:
    own = tmp_path / "own.qpt"
    text = builtin_template("A3").read_text(encoding="utf-8")
    own.write_text(text.replace('id="est_footer"', 'id="est_footer_removed"'), encoding="utf-8")
    result = generate_report(demo_store, ReportOptions(week=WEEK, template=own, atlas=False), tmp_path / "own.pdf")
    assert result.warnings == []
    assert "generated" not in _text(result.path)  # the footer item was renamed, so it keeps its template text


def test_opening_the_designer_twice_leaves_one_group_and_no_stray_layers(demo_store, qgis_new_project) -> None:
    from est_weekly_plugin.report.export import open_in_designer

    data = compute_report(demo_store, ReportOptions(week=WEEK, lang="en"))
    open_in_designer(data, None)
    layers = len(QgsProject.instance().mapLayers())
    open_in_designer(data, None)
    root = QgsProject.instance().layerTreeRoot()
    groups = [child for child in root.children() if child.name() == root.children()[0].name()]
    assert len(groups) == 1 and len(QgsProject.instance().mapLayers()) == layers
    assert len(QgsProject.instance().layoutManager().printLayouts()) == 1


def test_the_meeting_maps_stand_on_the_background_the_municipality_chose(tmp_path, qgis_app) -> None:
    """One background for every map of the PDF, chosen once in the database, with its attribution."""
    from est_weekly_plugin.maps.background import Background, schematic_districts

    store = GeoPackageStore.create(tmp_path / "bg.gpkg")
    store.insert_batch(demo_batch(8_000, seed=48, end_date=dt.date(2026, 11, 22)), today=dt.date(2026, 11, 23))
    background = schematic_districts(str(tmp_path / "background.gpkg"))
    background.save(store)
    assert Background.of(store) == background and background.layer() is not None
    plain = generate_report(GeoPackageStore.open(tmp_path / "bg.gpkg"), ReportOptions(week=WEEK, lang="sv"),
                            tmp_path / "with.pdf")
    assert "bakgrundskarta: EST Weekly demo: schematic district areas" in " ".join(_text(plain.path).split())
    Background.clear(store)
    bare = generate_report(store, ReportOptions(week=WEEK, lang="sv"), tmp_path / "without.pdf")
    pale = (242, 239, 233)  # the background's fill, nowhere else in the layout

    def share(path) -> float:
        import numpy as np

        image = _pages(path)[0].convertToFormat(QImage.Format.Format_RGB32)
        bits = image.constBits()
        bits.setsize(image.sizeInBytes())
        rows = np.frombuffer(bits, np.uint8).reshape(image.height(), image.bytesPerLine())
        pixels = rows[:, : image.width() * 4].reshape(-1, 4)[:, [2, 1, 0]].astype(int)  # BGRA → RGB
        return float((np.abs(pixels - pale).sum(axis=1) <= 6).mean())

    assert share(plain.path) > 0.05 and share(bare.path) < 0.01
