"""One number formatter: the language's decimal separator, sign and thousands."""

from __future__ import annotations

import pytest

from est_weekly_plugin.domain.i18n import format_number


def test_swedish_numbers_use_a_decimal_comma_and_a_real_minus():
    assert format_number(30.5, sign=True, lang="sv") == "+30,5"
    assert format_number(-2.25, 2, lang="sv") == "\u22122,25"
    assert format_number(12345, 0, lang="sv") == "12\u00a0345"


def test_english_numbers_keep_the_point():
    assert format_number(30.5, sign=True, lang="en") == "+30.5"
    assert format_number(0.75, 2, lang="en") == "0.75"
    assert format_number(12345, 0, lang="en") == "12,345"


def test_names_sort_as_in_swedish() -> None:
    from est_weekly_plugin.domain.i18n import sort_key

    names = ["Öresundsvakt", "Ängelholms fastigheter", "Åkesson bevakning", "bostadsbolaget", "Zenit"]
    assert sorted(names, key=lambda n: sort_key(n, "sv")) == [
        "bostadsbolaget", "Zenit", "Åkesson bevakning", "Ängelholms fastigheter", "Öresundsvakt"]


def test_every_list_of_organisations_is_by_name(gpkg_store) -> None:
    from est_weekly_plugin.domain.i18n import set_language, sort_key

    set_language("sv")
    try:
        names = [o.name() for o in gpkg_store.organisations()]
        assert names == sorted(names, key=sort_key) and len(names) > 5
    finally:
        set_language("en")


@pytest.mark.parametrize(("locale", "expected"), [("sv_SE", "sv"), ("en_US", "en"), ("de_DE", "en"), ("", "en")])
def test_the_plugin_speaks_the_language_qgis_runs_in(locale, expected, monkeypatch) -> None:
    """A Swedish QGIS gets Swedish, an English one English, a German one English (as QGIS does)."""
    from qgis.core import QgsApplication

    from est_weekly_plugin.domain import i18n

    monkeypatch.setattr(QgsApplication, "locale", staticmethod(lambda: locale))
    i18n.reset_locale_cache()
    i18n.set_language(None)
    try:
        assert i18n.language() == expected
        number = i18n.format_number(1234.5, 1)
        assert number == ("1\u00a0234,5" if expected == "sv" else "1,234.5")
    finally:
        i18n.reset_locale_cache()
        i18n.set_language("en")


def test_every_text_the_code_asks_for_exists_in_swedish_and_english() -> None:
    """Both catalogues hold the same keys, and every literal key of a tr(...) call in the plugin exists."""
    import re
    from pathlib import Path

    from est_weekly_plugin.domain.i18n import catalogue

    sv, en = set(catalogue("sv")), set(catalogue("en"))
    assert sv == en, (sorted(sv - en)[:10], sorted(en - sv)[:10])
    root = Path(__file__).resolve().parents[2] / "est_weekly_plugin"
    used = {key for path in root.rglob("*.py")
            for key in re.findall(r"""\btr\(\s*["']([a-z0-9_.]+)["']""", path.read_text(encoding="utf-8"))}
    assert used and not sorted(used - en), sorted(used - en)
    # plural entries have both forms in both languages, and the Swedish texts are Swedish
    for lang in ("sv", "en"):
        forms = [value for value in catalogue(lang).values() if isinstance(value, dict)]
        assert forms and all(set(value) == {"one", "other"} for value in forms), lang
    swedish = " ".join(v if isinstance(v, str) else v["other"] for v in catalogue("sv").values())
    assert all(letter in swedish for letter in "åäöÅÄÖ")
