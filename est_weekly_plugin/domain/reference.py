"""Reference data the plugin ships: default categories, demo organisations, districts, extent."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from .model import Category, Organisation
from .paths import resource


def _rows(name: str) -> list[dict[str, str]]:
    with open(resource("data", name), encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def default_categories() -> tuple[Category, ...]:
    """The 14 EST categories every new database is seeded with."""
    return tuple(
        Category(
            code=row["code"], label_sv=row["label_sv"], label_en=row["label_en"], colour=row["colour"],
            description_sv=row["description_sv"], description_en=row["description_en"],
            active=True, sort_order=index,
        )
        for index, row in enumerate(_rows("categories.csv"))
    )


@cache
def default_organisations() -> tuple[Organisation, ...]:
    return tuple(
        Organisation(code=row["code"], name_sv=row["name_sv"], name_en=row["name_en"], kind=row["kind"])
        for row in _rows("organisations.csv")
    )


@dataclass(frozen=True)
class District:
    code: str
    name: str
    x: float
    y: float
    kind: str


@cache
def districts() -> tuple[District, ...]:
    """Approximate district points of Helsingborg (EPSG:3006): place search and demo data."""
    return tuple(
        District(row["code"], row["name"], float(row["e_sweref99tm"]), float(row["n_sweref99tm"]), row["kind"])
        for row in _rows("districts.csv")
    )


@cache
def municipality() -> dict[str, Any]:
    """Name, CRS and extents (municipality, urban core) as ``[xmin, ymin, xmax, ymax]``."""
    with open(resource("data", "municipality.json"), encoding="utf-8") as handle:
        raw = json.load(handle)

    def box(key: str) -> list[float]:
        part = raw[key]
        return [part["xmin"], part["ymin"], part["xmax"], part["ymax"]]

    return {
        "name": raw["name"],
        "epsg": int(raw["crs"].split(":")[1]),
        "extent": box("extent_sweref99tm"),
        "urban_core": box("urban_core_sweref99tm"),
    }


@cache
def first_names() -> frozenset[str]:
    """Common first names in Sweden: how free text recognises a "First-name Surname" pair."""
    with open(resource("data", "first_names.txt"), encoding="utf-8") as handle:
        return frozenset(word for line in handle if not line.startswith("#") for word in line.split())
