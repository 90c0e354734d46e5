"""Swedish and English texts for everything the plugin says, core and GUI alike.

Catalogues ``resources/i18n/<part>.<lang>.json`` (one part per area: core, gui, compilation,
meeting …) are merged per language. This keeps the wording in one place,
lets headless code (validation, reports, Processing) speak the user's language, and lets a
test prove that every key exists in both languages.

An entry is a text, or an object of plural forms ``{"one": "…", "other": "…"}`` picked by the
``count`` given to :func:`tr`. Numbers, percentages, distances and dates are written with the
language's ``QLocale`` (decimal comma and non-breaking-space thousands in Swedish, a real minus
sign U+2212 where QLocale uses one), and :func:`tr` writes int/float values that way too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import string
from functools import cache
from typing import Any, Union

from .paths import resource

SUPPORTED_LANGUAGES = ("sv", "en")
_DEFAULT_LANGUAGE = "en"  # for a QGIS in any other language, as QGIS itself does
_forced_language: str | None = None
Entry = Union[str, dict[str, str]]


@cache
def catalogue(lang: str) -> dict[str, Entry]:
    merged: dict[str, Entry] = {}
    for path in sorted(resource("i18n").glob(f"*.{lang}.json")):
        with open(path, encoding="utf-8") as handle:
            merged.update(json.load(handle))
    return merged


def set_language(lang: str | None) -> None:
    """Force a language (tests, `qgis_process`); ``None`` goes back to QGIS's locale."""
    global _forced_language
    if lang is not None and lang not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}")
    _forced_language = lang


def language() -> str:
    """The user's language: forced, else the language QGIS itself runs in, else English."""
    return _forced_language or _qgis_language()


@cache
def _qgis_language() -> str:
    """QGIS's effective locale (``QgsApplication.locale()``: ``locale/userLocale`` when
    ``locale/overrideFlag`` is set, else the default ``QLocale``), read once: it changes only
    with a restart. Swedish gets Swedish; English and every other language get English."""
    try:
        from qgis.core import QgsApplication

        locale = str(QgsApplication.locale() or "")
    except Exception:  # noqa: BLE001 - no QGIS available (bare Python)
        locale = ""
    lang = locale[:2].lower()
    return lang if lang in SUPPORTED_LANGUAGES else _DEFAULT_LANGUAGE


def reset_locale_cache() -> None:
    """Forget the language and the ``QLocale`` read from QGIS (tests that change the locale)."""
    _qgis_language.cache_clear()
    _qlocale.cache_clear()


# --- texts --------------------------------------------------------------------------------------

def tr(key: str, lang: str | None = None, count: object = None, **params: object) -> str:
    """The text for *key* in *lang* (default: the user's), with ``{name}`` fields filled.

    *count* picks the plural form of an entry ``{"one": …, "other": …}`` and fills ``{count}``;
    without it the first whole number among the entry's fields picks. A field without a format
    spec gets an int or float in the language's number format (``{share} %`` → ``30,5 %``)."""
    lang = lang or language()
    entry = catalogue(lang).get(key) or catalogue("en").get(key) or key
    if count is not None:
        params.setdefault("count", count)
    if isinstance(entry, dict):
        entry = _plural(entry, count, params)
    if not params:
        return entry
    try:
        return _LocalFormatter(lang).vformat(entry, (), params)
    except (KeyError, IndexError, ValueError, AttributeError):
        return entry


def plural_form(n: float) -> str:
    """The plural category of *n*: Swedish and English both say ``one`` for 1, ``other`` else."""
    return "one" if n == 1 else "other"


def _plural(forms: dict[str, str], count: object, params: dict[str, object]) -> str:
    other = forms.get("other") or next(iter(forms.values()))
    n = _as_count(count)
    if n is None:  # no count given: the first whole number among the entry's fields
        fields = (name for _, name, _, _ in string.Formatter().parse(other) if name)
        n = next((v for v in (params.get(f) for f in fields) if _is_number(v) and float(v) % 1 == 0), None)
    return forms.get(plural_form(n), other) if n is not None else other


def _as_count(count: object) -> float | None:
    if _is_number(count):
        return float(count)  # type: ignore[arg-type]
    if isinstance(count, str):  # already formatted ("12 345"): read it back if it is a whole number
        digits = re.sub(r"[\s\u00a0\u202f,.']", "", count).replace("\u2212", "-")
        return float(digits) if re.fullmatch(r"-?\d+", digits) else None
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _LocalFormatter(string.Formatter):
    """``str.format`` that writes plain ``{int}``/``{float}`` fields in the language's format.
    Whole numbers below 10 000 keep no thousands separator, so years and week numbers stay whole."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec or not _is_number(value):
            return super().format_field(value, format_spec)
        if isinstance(value, int):
            return str(value) if abs(value) < 10_000 else format_number(value, self.lang, 0)
        return format_number(value, self.lang, _SHORTEST)


def label(sv: str, en: str, lang: str | None = None) -> str:
    """Pick the label of a bilingual record (category, organisation) for *lang*."""
    return sv if (lang or language()) == "sv" else en


# --- numbers and dates --------------------------------------------------------------------------

_SHORTEST = -128  # QLocale.FloatingPointShortest: as many decimals as the value needs


@cache
def _qlocale(lang: str) -> Any:
    """The ``QLocale`` that writes *lang*: QGIS's own (default) locale when it is in that language
    (it carries the user's region and group-separator choice), else Swedish/Sweden or
    English/United Kingdom. ``None`` without Qt."""
    try:
        from qgis.PyQt.QtCore import QLocale
    except ImportError:  # pragma: no cover - bare Python
        return None
    wanted = QLocale.Language.Swedish if lang == "sv" else QLocale.Language.English
    default = QLocale()
    if default.language() == wanted:
        return default
    country = QLocale.Country.Sweden if lang == "sv" else QLocale.Country.UnitedKingdom
    return QLocale(wanted, country)


def locale(lang: str | None = None) -> Any:
    """The ``QLocale`` numbers and dates are written with in *lang* (default: the user's)."""
    return _qlocale(lang or language())


def format_number(value: float, lang_or_decimals: str | int | None = None, decimals_: int | None = None, /, *,
                  decimals: int | None = None, sign: bool = False, lang: str | None = None) -> str:
    """*value* with *decimals* decimals (default 1) in *lang*'s number format: ``1 234,5`` in
    Swedish (non-breaking space, decimal comma, minus U+2212), ``1,234.5`` in English; an
    explicit ``+`` when *sign*. Called ``format_number(v, lang, decimals)`` or, as of old,
    ``format_number(v, decimals, lang=…)``."""
    lang, decimals = _number_args(lang_or_decimals, decimals_ if decimals is None else decimals, lang)
    value = float(value)
    if decimals >= 0 and round(value, decimals) == 0:
        value = 0.0  # no "−0,0"
    qlocale = _qlocale(lang)
    if qlocale is None:  # pragma: no cover - bare Python
        text = f"{value:,.{max(decimals, 0)}f}"
        text = text.replace(",", "\u00a0").replace(".", ",").replace("-", "\u2212") if lang == "sv" else text
    else:
        text = qlocale.toString(value, "f", decimals)
    return ("+" if qlocale is None else qlocale.positiveSign()) + text if sign and value >= 0 else text


def _number_args(first: str | int | None, decimals: int | None, lang: str | None) -> tuple[str, int]:
    """(language, decimals) from format_number's arguments: an int first argument is the decimals."""
    if isinstance(first, int) and not isinstance(first, bool):
        decimals = first if decimals is None else decimals
    elif first is not None:
        lang = first
    return lang or language(), 1 if decimals is None else decimals


def format_signed(value: float, lang: str | None = None, decimals: int = 1) -> str:
    """A change: ``+30,5`` / ``−2,3`` in Swedish, ``+30.5`` / ``-2.3`` in English (``+0`` for none)."""
    return format_number(value, lang, decimals, sign=True)


def format_percent(percent: float, lang: str | None = None, decimals: int = 0, *, sign: bool = False) -> str:
    """*percent* (in percent, not a fraction) with its sign: ``30,5 %`` in Swedish, ``30.5%`` in English."""
    number = format_number(percent, lang, decimals, sign=sign)
    return f"{number} %" if (lang or language()) == "sv" else f"{number}%"


def format_distance(metres: float, lang: str | None = None, unit: str | None = None) -> str:
    """A distance: whole metres below 1 km (``750 m``), else kilometres (``1,25 km``/``1.25 km``,
    one decimal from 10 km, none from 100 km); *unit* ``"m"`` or ``"km"`` forces one (``0,75 km``)."""
    unit = unit or ("m" if abs(metres) < 1000 else "km")
    if unit == "m":
        return f"{format_number(metres, lang, 0)} m"
    km = metres / 1000
    decimals = 2 if abs(km) < 10 else 1 if abs(km) < 100 else 0
    return f"{format_number(km, lang, decimals)} km"


def format_date(value: dt.date | Any, lang: str | None = None, *, long: bool = False) -> str:
    """A date (``datetime.date``/``datetime``/``QDate``) in QLocale's short format (Swedish
    ``2026-12-02``, British ``02/12/2026``) or, when *long*, its long one (``onsdag 2 december 2026``)."""
    from qgis.PyQt.QtCore import QDate, QLocale

    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        value = QDate(value.year, value.month, value.day)
    kind = QLocale.FormatType.LongFormat if long else QLocale.FormatType.ShortFormat
    return _qlocale(lang or language()).toString(value, kind)


def sort_key(text: str, lang: str | None = None) -> tuple[int, ...]:
    """A key that sorts names as the language does: in Swedish Å, Ä, Ö come after Z (not Ä before Å,
    as code points would have it); case is ignored first."""
    order = _SWEDISH_ORDER if (lang or language()) == "sv" else {}
    return tuple(order.get(char, ord(char)) for char in text.casefold())


# after z (122) and before anything else the letters sort by code point; æ/ø as ä/ö
_SWEDISH_ORDER = {"å": 123, "ä": 124, "æ": 124, "ö": 125, "ø": 125, "ü": ord("y"), "é": ord("e"), "à": ord("a")}
