"""The plugin's version and name, read from metadata.txt (the one source of truth)."""

from __future__ import annotations

import configparser
from functools import lru_cache

from .paths import metadata_file


@lru_cache(maxsize=None)
def metadata() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(metadata_file(), encoding="utf-8")
    return dict(parser["general"])


def plugin_version() -> str:
    return metadata()["version"]
