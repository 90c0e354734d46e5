"""Swedish and English texts for everything the plugin says, core and GUI alike.

Catalogues ``resources/i18n/<part>.<lang>.json`` (one part per area: core, gui, compilation,
meeting …) are merged per language. This keeps the wording in one place,
lets headless code (validation, reports, Processing) speak the user's language, and lets a
test prove that every key exists in both languages.
"""

from __future__ import annotations

import json
from functools import cache

from .paths import resource

SUPPORTED_LANGUAGES = ("sv", "en")
_DEFAULT_LANGUAGE = "en"  # for a QGIS in any other language, as QGIS itself does
_forced_language: str | None = None


@cache
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
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
    """QGIS's effective locale (``QgsApplication.locale()``, which honours the override in the
    options), read once: it changes only with a restart. A German QGIS gets English, as QGIS does."""
    try:
        from qgis.core import QgsApplication

        locale = str(QgsApplication.locale() or "")
    except Exception:  # noqa: BLE001 - no QGIS available (bare Python)
        locale = ""
    lang = locale[:2].lower()
    return lang if lang in SUPPORTED_LANGUAGES else _DEFAULT_LANGUAGE


def tr(key: str, lang: str | None = None, **params: object) -> str:
    """The text for *key* in *lang* (default: the user's), with ``{name}`` fields filled."""
    lang = lang or language()
    text = catalogue(lang).get(key) or catalogue("en").get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def label(sv: str, en: str, lang: str | None = None) -> str:
    """Pick the label of a bilingual record (category, organisation) for *lang*."""
    return sv if (lang or language()) == "sv" else en


def format_number(value: float, digits: int = 1, *, sign: bool = False, lang: str | None = None) -> str:
    """The one number formatter: the language's decimal separator (comma in Swedish), an
    explicit + when *sign*, thin spaces between thousands in Swedish."""
    text = f"{value:+,.{digits}f}" if sign else f"{value:,.{digits}f}"
    if (lang or language()) == "sv":
        return text.replace(",", "\u202f").replace(".", ",").replace("-", "\u2212")
    return text


def sort_key(text: str, lang: str | None = None) -> tuple[int, ...]:
    """A key that sorts names as the language does: in Swedish Å, Ä, Ö come after Z (not Ä before Å,
    as code points would have it); case is ignored first."""
    order = _SWEDISH_ORDER if (lang or language()) == "sv" else {}
    return tuple(order.get(char, ord(char)) for char in text.casefold())


# after z (122) and before anything else the letters sort by code point; æ/ø as ä/ö
_SWEDISH_ORDER = {"å": 123, "ä": 124, "æ": 124, "ö": 125, "ø": 125, "ü": ord("y"), "é": ord("e"), "à": ord("a")}
