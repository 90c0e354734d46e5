"""Personal data in free text: found before it is stored, so events stay about places, not people.

EST reports describe places, situations and behaviour. Swedish municipalities keep EST data at
address level without other personal data, and reports naming suspected offenders are data
GDPR article 10 restricts. So every free text (description, place name, import columns) is
scanned for what most often slips in — personal identity and coordination numbers (with their
check digit), phone numbers, e-mail addresses, car registrations and "First-name Surname"
pairs — and the reporter (and later the reviewer) is told what was found.

Fast enough for imports: all texts are joined and scanned by one compiled expression, so the
per-row cost is the regular-expression engine's, not Python's (``bench/privacy.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

import numpy as np

from .reference import first_names

KINDS = ("personnummer", "phone", "email", "registration", "name")

# Each expression starts with a character class and checks what precedes with a fixed-width
# look-behind *after* it, so the engine skips through text in C instead of trying every position.
# Personal identity number: [CC]YYMMDD[-+]NNNC (coordination number: day + 60).
_PNR = r"(?P<pnr>\d(?<!\d\d)(?<!-\d)(?:\d{7}|\d{5})[-+ ]?\d{4}(?!\d))"
# Swedish phone numbers: +46 …, 0046 … or 0…, 8–10 digits after the prefix, in the usual groupings.
_PHONE = (r"(?P<phone>\+(?<![\w+]\+)46[ -]?(?:\(0\)[ -]?)?\d(?:[ -]?\d){6,9}(?!\d)"
          r"|0(?<![\w+]0)\d{1,3}(?:[ -/]?\d){5,8}(?!\d))")
# An e-mail address is found at its "@" (a literal the engine skips to); the local part before it
# is collected afterwards (see _matches).
_EMAIL = r"(?P<email>@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,})"
_LOCAL_PART = re.compile(r"[\w.+-]+$")
# Car registrations: three letters (no I, Q, V, Å, Ä, Ö) then two digits and a digit or letter.
_PLATE = r"(?P<registration>[A-HJ-PR-UW-Z](?<!\w[A-HJ-PR-UW-Z])[A-HJ-PR-UW-Z]{2} ?\d{2}[A-HJ-PR-UW-Z\d](?!\w))"
# A first name is matched alone (the surname in a look-ahead), so "Ring Anna Andersson" still
# finds "Anna Andersson" after rejecting "Ring Anna".
_NAME = (r"(?P<name>[A-ZÅÄÖÉ](?<!\w[A-ZÅÄÖÉ])[a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?"
         r"(?= [A-ZÅÄÖÉ][a-zåäöéü]+))")
_SURNAME = re.compile(r" [A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?\b")
_PATTERNS = tuple(re.compile(p) for p in (_EMAIL, _PNR, _PHONE, _PLATE, _NAME))

# A capitalised pair is a name when its first word is a first name and its second is not the
# start of a place ("Gustav Adolfs torg", "Karl Johans gata").
_PLACE_WORDS = re.compile(r"\s*(?:torg|gata|gatan|väg|vägen|plan|plats|park|parken|skola|skolan|kyrka|kyrkan|"
                          r"backe|backen|allé|gränd|stig|hamn|station|centrum|strand|bro|bron|stigen)\b",
                          re.IGNORECASE)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _valid_pnr(text: str) -> bool:
    """A real date in the number; a bare ten-digit run must also pass the check digit (else it
    is as likely an order or phone number). A number written with century or separator is
    flagged even with a wrong check digit: a mistyped identity number is still one."""
    all_digits = re.sub(r"\D", "", text)
    if len(all_digits) == 12 and all_digits[:2] not in ("19", "20"):
        return False
    digits = all_digits[-10:]
    month, day = int(digits[2:4]), int(digits[4:6])
    if day > 60:  # coordination number
        day -= 60
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    bare = len(all_digits) == 10 and text.isdigit()
    return _luhn_ok(digits) if bare else True


def _surname_end(match: re.Match[str], text: str) -> int:
    found = _SURNAME.match(text, match.end())
    return found.end() if found else match.end()


def _valid_name(match: re.Match[str], text: str) -> bool:
    first = match.group("name")
    end = _surname_end(match, text)
    second = text[match.end() + 1:end]
    if first.split("-")[0] not in first_names() or not second:
        return False
    if second.endswith("s") and _PLACE_WORDS.match(text, end):
        return False
    return not _PLACE_WORDS.fullmatch(" " + second)


def _kind(match: re.Match[str], text: str) -> str | None:
    kind = match.lastgroup or ""
    if kind == "pnr":
        return "personnummer" if _valid_pnr(match.group(kind)) else None
    if kind == "phone":
        digits = re.sub(r"\D", "", match.group(kind))
        return "phone" if 8 <= len(digits) <= 13 and not _looks_like_date(match.group(kind)) else None
    if kind == "name":
        return "name" if _valid_name(match, text) else None
    return kind


def _looks_like_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def _matches(text: str) -> list[tuple[int, str, str]]:
    """(start, kind, text) of every finding, each expression run over *text* on its own; where
    two overlap (an e-mail's digits, a name inside an address) the earlier, longer one wins."""
    found: list[tuple[int, int, str, str]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            kind = _kind(match, text)
            if kind == "email":
                local = _LOCAL_PART.search(text, max(0, match.start() - 64), match.start())
                if local is not None:
                    found.append((local.start(), match.end(), kind, text[local.start():match.end()]))
            elif kind == "name":
                end = _surname_end(match, text)
                found.append((match.start(), end, kind, text[match.start():end]))
            elif kind is not None:
                found.append((match.start(), match.end(), kind, match.group()))
    found.sort(key=lambda item: (item[0], -item[1]))
    kept: list[tuple[int, str, str]] = []
    end = -1
    for start, stop, kind, value in found:
        if start >= end:
            kept.append((start, kind, value))
            end = stop
    return kept


def find_personal_data(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) of every likely piece of personal data in *text*, in order."""
    return [(kind, value) for _start, kind, value in _matches(text or "")]


def flags(text: str) -> str:
    """The kinds found in *text* as stored with a report: comma-separated, in KINDS order, '' if none."""
    kinds = {kind for kind, _ in find_personal_data(text)}
    return ",".join(kind for kind in KINDS if kind in kinds)


def scan_texts(texts: Sequence[str] | Iterable[str]) -> list[str]:
    """:func:`flags` for many texts at once (imports): one pass per expression over the joined texts."""
    texts = ["" if t is None else str(t) for t in texts]
    result = [""] * len(texts)
    if not texts:
        return result
    joined = "\n".join(t.replace("\n", " ") for t in texts)
    starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
    matches = _matches(joined)
    rows = np.searchsorted(starts, [start for start, _kind, _value in matches], side="right") - 1
    found: dict[int, set[str]] = {}
    for row, (_start, kind, _value) in zip(rows.tolist(), matches):
        found.setdefault(row, set()).add(kind)
    for row, kinds in found.items():
        result[row] = ",".join(kind for kind in KINDS if kind in kinds)
    return result


def redact(text: str, part: str | None = None, marker: str = "[uppgift borttagen]") -> str:
    """*text* with *part* (or all of it) replaced by *marker*."""
    if not part:
        return marker
    return (text or "").replace(part, marker)
