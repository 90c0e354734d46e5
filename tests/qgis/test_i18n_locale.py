"""The language and the number format follow QGIS's locale; plural forms; QLocale numbers and dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from qgis.core import QgsApplication, QgsSettings
from qgis.PyQt.QtCore import QLocale

from est_weekly_plugin.domain import i18n
from est_weekly_plugin.domain.errors import EstError, Problem, ValidationError
from est_weekly_plugin.domain.i18n import format_date, format_distance, format_number, format_percent, format_signed, tr

NBSP, MINUS = "\u00a0", "\u2212"


@pytest.fixture
def c_locale() -> Iterator[None]:
    """A QGIS whose own default QLocale is neither Swedish nor English (C), restored afterwards."""
    before = QLocale()
    QLocale.setDefault(QLocale.c())
    i18n.reset_locale_cache()
    yield
    QLocale.setDefault(before)
    i18n.reset_locale_cache()


@pytest.fixture
def qgis_locale(c_locale) -> Iterator[object]:  # noqa: ANN001
    """Set QGIS's user locale the way its options dialog does (``locale/userLocale`` with
    ``locale/overrideFlag``), use it for the language, and put the settings back afterwards."""
    settings = QgsSettings()
    keys = ("locale/userLocale", "locale/overrideFlag")
    saved = {key: settings.value(key) for key in keys if settings.contains(key)}

    def use(locale: str) -> None:
        settings.setValue("locale/userLocale", locale)
        settings.setValue("locale/overrideFlag", True)
        i18n.reset_locale_cache()
        i18n.set_language(None)

    yield use
    for key in keys:
        settings.remove(key)
        if key in saved:
            settings.setValue(key, saved[key])
    i18n.reset_locale_cache()


@pytest.mark.parametrize(("locale", "lang", "number", "change"), [
    ("sv_SE", "sv", f"1{NBSP}234,5", f"{MINUS}2,3"),
    ("en_US", "en", "1,234.5", "-2.3"),
    ("de_DE", "en", "1,234.5", "-2.3"),  # a German QGIS gets English, as QGIS itself does
])
def test_qgis_locale_picks_language_and_number_format(qgis_locale, locale, lang, number, change) -> None:  # noqa: ANN001
    qgis_locale(locale)
    assert QgsApplication.locale()[:2] == locale[:2]
    assert i18n.language() == lang
    assert format_number(1234.5) == number and format_signed(-2.3) == change
    assert tr("error.validation_failed", count=2).startswith("Rapporten" if lang == "sv" else "The report")
    assert tr("compilation.hotspots.change", change=30.5).startswith(" (30,5 %" if lang == "sv" else " (30.5 %")


def test_a_qgis_without_override_uses_its_default_qlocale(c_locale) -> None:  # noqa: ANN001
    """Without the override QGIS runs in its default QLocale, which also carries its region."""
    settings = QgsSettings()
    flag = settings.value("locale/overrideFlag")
    settings.setValue("locale/overrideFlag", False)
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    i18n.reset_locale_cache()
    i18n.set_language(None)
    try:
        assert i18n.language() == "en"
        assert format_date(dt.date(2026, 12, 2)) == QLocale().toString(dt.date(2026, 12, 2), QLocale.FormatType.ShortFormat)
    finally:
        settings.remove("locale/overrideFlag")
        if flag is not None:
            settings.setValue("locale/overrideFlag", flag)


def test_the_language_is_read_once_not_on_every_call(qgis_locale, monkeypatch) -> None:  # noqa: ANN001
    qgis_locale("sv_SE")
    assert tr("status.approved") == "Godkänd"

    def no_more(*_args: object) -> str:
        raise AssertionError("QGIS's locale read again")

    monkeypatch.setattr(QgsApplication, "locale", staticmethod(no_more))
    assert tr("status.approved") == "Godkänd" and format_number(2.5) == "2,5"


@pytest.mark.parametrize(("count", "en", "sv"), [
    (1, "(1 problem):", "(1 problem):"), (2, "(2 problems):", "(2 problem):"), (0, "(0 problems):", "(0 problem):")])
def test_plural_forms_by_count(count: int, en: str, sv: str) -> None:
    assert tr("error.validation_failed", "en", count=count).endswith(en)
    assert tr("error.validation_failed", "sv", count=count).endswith(sv)


def test_plural_forms_in_errors_and_problems() -> None:
    one = EstError("import_bad_status", rows="5", values="klar", count=1)
    two = EstError("import_bad_status", rows="5, 7", values="klar, ok", count=2)
    assert "holds 1 value an import" in one.message("en") and "in row 5." in one.message("en")
    assert "holds 2 values an import" in two.message("en") and "in rows 5, 7." in two.message("en")
    assert "har 1 värde som" in one.message("sv") and "på rad 5." in one.message("sv")
    assert "har 2 värden som" in two.message("sv") and "på rader 5, 7." in two.message("sv")
    # without count= the first whole number among the fields picks the form
    assert Problem("event_date", "date_too_old", {"years": 1}).message("en") == "The date is more than 1 year ago."
    assert Problem("event_date", "date_too_old", {"years": 10}).message("en") == "The date is more than 10 years ago."
    problem = Problem("description", "text_too_long", {"field": "description", "max": 2000, "length": 12001})
    assert problem.message("en").endswith("(12,001 characters, at most 2000).")
    assert problem.message("sv").endswith(f"(12{NBSP}001 tecken, högst 2000).")
    assert ValidationError([problem], row=3).message("en").startswith("Row 4 cannot be saved (1 problem);")


def test_tr_writes_plain_numbers_in_the_language_but_keeps_explicit_formats(monkeypatch) -> None:  # noqa: ANN001
    for lang in ("sv", "en"):
        monkeypatch.setitem(i18n.catalogue(lang), "test.numbers", "{share} % · {x:.2f} · {year} · {n} · {flag}")
    assert tr("test.numbers", "sv", share=30.5, x=0.5, year=2026, n=12345, flag=True) == \
        f"30,5 % · 0.50 · 2026 · 12{NBSP}345 · True"
    assert tr("test.numbers", "en", share=30.5, x=0.5, year=2026, n=12345, flag=True) == "30.5 % · 0.50 · 2026 · 12,345 · True"
    assert tr("test.numbers", "en", share=30.5) == "{share} % · {x:.2f} · {year} · {n} · {flag}"  # a field missing


def test_a_count_already_formatted_still_picks_the_form(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setitem(i18n.catalogue("en"), "test.events", {"one": "{count} event", "other": "{count} events"})
    assert tr("test.events", "en", count="1") == "1 event"
    assert tr("test.events", "en", count="12,345") == "12,345 events"
    assert tr("test.events", "en") == "{count} events"


def test_numbers_percentages_and_distances(c_locale) -> None:  # noqa: ANN001
    assert format_number(1234567.891, "sv", 2) == f"1{NBSP}234{NBSP}567,89"
    assert format_number(1234567.891, "en", decimals=2) == "1,234,567.89"
    assert format_number(-0.04, "sv", 1) == "0,0" and format_signed(-0.04, "sv") == "+0,0"
    assert format_signed(30.5, "sv") == "+30,5" and format_signed(30.5, "en") == "+30.5"
    assert format_signed(-2.3, "sv") == f"{MINUS}2,3" and format_signed(-2.3, "en") == "-2.3"
    assert format_percent(30.5, "sv", 1) == "30,5 %" and format_percent(30.5, "en", 1) == "30.5%"
    assert format_percent(12, "sv", sign=True) == "+12 %"
    assert format_distance(750, "sv") == "750 m" and format_distance(750, "en") == "750 m"
    assert format_distance(750, "sv", unit="km") == "0,75 km" and format_distance(750, "en", unit="km") == "0.75 km"
    assert format_distance(1250, "sv") == "1,25 km" and format_distance(12500, "en") == "12.5 km"
    assert format_distance(123456, "en") == "123 km"


def test_dates_follow_qlocale(c_locale) -> None:  # noqa: ANN001
    day = dt.date(2026, 12, 2)
    assert format_date(day, "sv") == "2026-12-02"
    assert format_date(dt.datetime(2026, 12, 2, 8, 30), "en") == "02/12/2026"
    assert format_date(day, "sv", long=True) == "onsdag 2 december 2026"
    assert format_date(day, "en", long=True) == "Wednesday, 2 December 2026"


def test_coordinates_and_row_numbers_stay_as_they_are_not_as_amounts() -> None:
    outside = Problem("place", "place_outside", {"x": 300000, "y": 6100000})
    degrees = Problem("place", "place_in_degrees", {"x": 12.69, "y": 56.04})
    assert "(300000, 6100000)" in outside.message("en") and "(300000, 6100000)" in outside.message("sv")
    assert "(12.69, 56.04)" in degrees.message("sv")
    assert ValidationError([outside], row=29_999).message("sv").startswith("Rad 30000 kan inte sparas (1 problem)")
