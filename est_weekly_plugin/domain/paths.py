"""Where the plugin's files live, in the source tree and in an installed ZIP alike.

In the repository `resources/` and `metadata.txt` sit beside the package; in the ZIP
that QGIS installs they sit inside it. Every lookup goes through here so both work.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent


@cache
def _first_existing(name: str) -> Path:
    for base in (PACKAGE_DIR, PACKAGE_DIR.parent):
        candidate = base / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"EST Weekly cannot find {name!r} beside or inside {PACKAGE_DIR}")


def resources_dir() -> Path:
    """The `resources/` folder (icons, styles, data, translations, templates)."""
    return _first_existing("resources")


def resource(*parts: str) -> Path:
    """A file below `resources/`, e.g. ``resource("data", "categories.csv")``."""
    return resources_dir().joinpath(*parts)


def metadata_file() -> Path:
    return _first_existing("metadata.txt")
