"""Build dist/est_weekly_plugin.zip for QGIS's "Install from ZIP", and optionally deploy it.

The ZIP holds the package with metadata.txt and resources/ inside it (QGIS needs them in one
folder) and bundles the pure-Python run-time dependency pyqtgraph under ext_libs/, so a stock
QGIS (e.g. on Windows) loads the plugin without extra installs. Tests and dev files stay out.
"""

from __future__ import annotations

import argparse
import configparser
import os
import shutil
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "est_weekly_plugin"
BUNDLED = ("pyqtgraph",)
SKIP_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo"}


def _files(folder: Path) -> list[Path]:
    return sorted(
        path for path in folder.rglob("*")
        if path.is_file() and not (SKIP_PARTS & set(path.parts)) and path.suffix not in SKIP_SUFFIXES
    )


def build(dist: Path = ROOT / "dist") -> Path:
    dist.mkdir(parents=True, exist_ok=True)
    target = dist / f"{PACKAGE}.zip"
    target.unlink(missing_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(ROOT / PACKAGE):
            archive.write(path, f"{PACKAGE}/{path.relative_to(ROOT / PACKAGE)}")
        for path in _files(ROOT / "resources"):
            archive.write(path, f"{PACKAGE}/resources/{path.relative_to(ROOT / 'resources')}")
        for name in ("metadata.txt", "LICENSE", "README.md"):
            archive.write(ROOT / name, f"{PACKAGE}/{name}")
        for module in BUNDLED:
            source = Path(__import__(module).__file__).resolve().parent
            for path in _files(source):
                archive.write(path, f"{PACKAGE}/ext_libs/{module}/{path.relative_to(source)}")
    return target


def qgis_profile_plugins() -> Path:
    """The default profile's plugin folder of the local QGIS (Linux, macOS, Windows)."""
    if sys.platform.startswith("win"):
        base = Path(os.environ["APPDATA"]) / "QGIS" / "QGIS3"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / "QGIS" / "QGIS3"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "QGIS" / "QGIS3"
    return base / "profiles" / "default" / "python" / "plugins"


def deploy(archive: Path, plugins: Path | None = None) -> Path:
    """Unpack the ZIP into the QGIS profile and mark the plugin enabled."""
    plugins = plugins or qgis_profile_plugins()
    plugins.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(plugins / PACKAGE, ignore_errors=True)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(plugins)
    ini = plugins.parent.parent / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True, exist_ok=True)
    config = configparser.RawConfigParser()
    config.optionxform = str
    config.read(ini, encoding="utf-8")
    if not config.has_section("PythonPlugins"):
        config.add_section("PythonPlugins")
    config.set("PythonPlugins", PACKAGE, "true")
    with open(ini, "w", encoding="utf-8") as handle:
        config.write(handle, space_around_delimiters=False)
    return plugins / PACKAGE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deploy", action="store_true", help="also install into the local QGIS profile")
    args = parser.parse_args()
    archive = build()
    print(f"Built {archive} ({archive.stat().st_size // 1024} KiB)")
    if args.deploy:
        print(f"Installed into {deploy(archive)}")


if __name__ == "__main__":
    main()
