"""Build dist/est_weekly_plugin.zip for QGIS's "Install from ZIP", and optionally deploy it.

The ZIP holds the package with metadata.txt and resources/ inside it (QGIS needs them in one
folder), including the vendored pyqtgraph under ``_vendor/`` (refreshed by ``scripts/vendor.py``
first; only the parts the charts use, with its licence), so a stock QGIS (e.g. on Windows)
loads the plugin without extra installs. Tests, bytecode and the development-only modules in
``DEV_ONLY`` stay out; the build fails if a shipped module imports one of them.
"""

from __future__ import annotations

import argparse
import ast
import configparser
import os
import shutil
import sys
import zipfile
from pathlib import Path

from scripts import vendor

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "est_weekly_plugin"
# Modules of the package that only make demo, the tests and the benchmarks use (path below the
# package → why it is development-only). The plugin itself never imports them; build() checks.
DEV_ONLY = {
    "store/demo.py": "synthetic demo events for make demo, the tests and bench; no plugin action creates demo data",
}
SKIP_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo"}


def _files(folder: Path) -> list[Path]:
    return sorted(
        path for path in folder.rglob("*")
        if path.is_file() and not (SKIP_PARTS & set(path.parts)) and path.suffix not in SKIP_SUFFIXES
    )


def _module(relative: Path) -> str:
    """``store/demo.py`` → ``est_weekly_plugin.store.demo`` (a package's ``__init__`` is the package)."""
    parts = [PACKAGE, *relative.with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, relative: Path) -> set[str]:
    """Absolute names of the modules *path* imports (``from . import x`` counts as ``pkg.x``)."""
    package = _module(relative).split(".") if relative.name == "__init__.py" else _module(relative).split(".")[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            names |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return names


def dev_only_imports(shipped: list[Path]) -> list[str]:
    """``file: module`` for every shipped module that imports a ``DEV_ONLY`` one."""
    excluded = {_module(Path(name)) for name in DEV_ONLY}
    found = []
    for path in shipped:
        relative = path.relative_to(ROOT / PACKAGE)
        if path.suffix == ".py" and relative.parts[0] != "_vendor":
            found += [f"{relative}: {name}" for name in sorted(_imported(path, relative) & excluded)]
    return found


def build(dist: Path = ROOT / "dist") -> Path:
    vendor.vendor()  # writes only what changed: a no-op when make venv already made it
    shipped = [path for path in _files(ROOT / PACKAGE)
               if path.relative_to(ROOT / PACKAGE).as_posix() not in DEV_ONLY]
    offences = dev_only_imports(shipped)
    if offences:
        raise RuntimeError(f"shipped modules import development-only ones: {'; '.join(offences)}")
    dist.mkdir(parents=True, exist_ok=True)
    target = dist / f"{PACKAGE}.zip"
    target.unlink(missing_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in shipped:
            archive.write(path, f"{PACKAGE}/{path.relative_to(ROOT / PACKAGE)}")
        for path in _files(ROOT / "resources"):
            archive.write(path, f"{PACKAGE}/resources/{path.relative_to(ROOT / 'resources')}")
        for name in ("metadata.txt", "LICENSE", "README.md"):
            archive.write(ROOT / name, f"{PACKAGE}/{name}")
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
