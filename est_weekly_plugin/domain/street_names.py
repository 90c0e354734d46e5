"""Swedish street names in free text: the police's summary of an area event often names the street
("… vid en skola på Furutorpsgatan"), which is enough for the reviewer to place it on the map."""

from __future__ import annotations

import re

_ENDINGS = ("gatan", "vägen", "gränd", "gränden", "torget", "torg", "allén", "alléen", "stigen", "backen",
            "platsen", "leden", "stråket", "kajen", "promenaden", "esplanaden", "parken", "plan", "passagen")
_SEPARATE = ("torg", "gata", "väg", "plats", "gränd", "allé", "park", "backe", "stig")  # "Gustav Adolfs torg"
_NAME = r"[A-ZÅÄÖ][\wåäöéü-]*"
_STREET = re.compile(rf"\b((?:{_NAME}\s)?{_NAME}(?:{'|'.join(_ENDINGS)})|{_NAME}\s(?:{_NAME}\s)?(?:{'|'.join(_SEPARATE)}))"
                     r"\b(?:\s+(\d+(?:\s?[A-Z]|[a-z])?)\b)?")


def street_names(text: str) -> list[str]:
    """The street names (with a house number when one follows) in *text*, in order, each once."""
    found: list[str] = []
    for match in _STREET.finditer(text or ""):
        name = match.group(1) + (f" {match.group(2)}" if match.group(2) else "")
        if name not in found:
            found.append(name)
    return found
