"""The plugin's version and name, read from metadata.txt (the one source of truth)."""

from __future__ import annotations

import configparser
from functools import cache

from .paths import metadata_file


@cache
def metadata() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(metadata_file(), encoding="utf-8")
    return dict(parser["general"])


def plugin_version() -> str:
    return metadata()["version"]
