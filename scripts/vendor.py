"""Copy the parts of pyqtgraph the plugin uses into ``est_weekly_plugin/_vendor/pyqtgraph``.

The plugin imports ``est_weekly_plugin._vendor.pyqtgraph``, never a top-level ``pyqtgraph``, so
another pyqtgraph installed in the user's QGIS (another plugin's, a different version) can
neither win nor be disturbed. pyqtgraph imports its own modules relatively, so the copy needs
no rewriting; a build fails if an absolute ``import pyqtgraph`` ever appears in it.

The copy comes from the pyqtgraph installed in the venv (``requirements.txt`` pins it; the
versions must match) and is generated, not committed: ``make venv`` (and so ``make test``)
and ``make package`` run this, so the tests and the ZIP run the same code. Re-running only
writes what changed, so a process that is importing from the copy is not disturbed.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "est_weekly_plugin" / "_vendor" / "pyqtgraph"
DISTRIBUTION = "pyqtgraph"
# Subpackages the plugin's charts never reach (imported only on demand by pyqtgraph itself).
EXCLUDED = {
    "examples": "demo programs (the largest part)",
    "opengl": "3D plots (needs PyOpenGL)",
    "jupyter": "notebook widgets",
    "flowchart": "node-graph editor",
    "canvas": "interactive canvas app",
    "console": "interactive Python console widget",
    "dockarea": "dock layout framework",
    "colors/maps": "named colour-map tables; the charts set their colours themselves",
}
SKIPPED_NAMES = {"__pycache__"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}
LICENSE = "LICENSE.txt"
ABSOLUTE_IMPORT = re.compile(rf"^\s*(import|from)\s+{DISTRIBUTION}\b", re.MULTILINE)


class VendorError(RuntimeError):
    """The vendored copy cannot be made or is not what the plugin may ship."""


def pinned_version(requirements: Path = ROOT / "requirements.txt") -> str:
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(rf"\s*{DISTRIBUTION}\s*==\s*([^\s#;]+)", line, re.IGNORECASE)
        if match:
            return match.group(1)
    raise VendorError(f"{requirements} does not pin {DISTRIBUTION}==<version>")


def _source() -> tuple[Path, str, bytes]:
    """(package folder, version, licence text) of the installed distribution."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as error:
        raise VendorError(f"{DISTRIBUTION} is not installed; run make venv") from error
    pinned = pinned_version()
    if dist.version != pinned:
        raise VendorError(f"installed {DISTRIBUTION} {dist.version} is not the pinned {pinned}; run make venv")
    licence = dist.read_text(LICENSE)
    if not licence:
        raise VendorError(f"{DISTRIBUTION} {dist.version} has no {LICENSE} in its metadata")
    return Path(dist.locate_file(DISTRIBUTION)), dist.version, licence.encode("utf-8")


def _wanted(source: Path) -> dict[str, Path]:
    """Relative path → source file of everything the copy holds (the licence aside)."""
    wanted = {}
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or SKIPPED_NAMES & set(relative.parts) or path.suffix in SKIPPED_SUFFIXES:
            continue
        if any(relative.as_posix() == name or relative.as_posix().startswith(f"{name}/") for name in EXCLUDED):
            continue
        wanted[relative.as_posix()] = path
    return wanted


def absolute_imports(target: Path = TARGET) -> list[str]:
    """``file:line`` of every top-level ``import pyqtgraph`` / ``from pyqtgraph`` in the copy."""
    found = []
    for path in sorted(target.rglob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in ABSOLUTE_IMPORT.finditer(text):
            found.append(f"{path.relative_to(target)}:{text.count(chr(10), 0, match.start()) + 1}")
    return found


def vendor(target: Path = TARGET) -> tuple[str, int]:
    """Bring *target* in line with the installed, pinned pyqtgraph; (version, files written)."""
    source, version, licence = _source()
    wanted = _wanted(source)
    written = 0
    target.mkdir(parents=True, exist_ok=True)
    for relative, path in wanted.items():
        destination = target / relative
        if destination.is_file() and destination.read_bytes() == path.read_bytes():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        written += 1
    if not (target / LICENSE).is_file() or (target / LICENSE).read_bytes() != licence:
        (target / LICENSE).write_bytes(licence)
        written += 1
    keep = set(wanted) | {LICENSE}
    for path in sorted(target.rglob("*"), reverse=True):  # files before their folders
        relative = path.relative_to(target)
        if SKIPPED_NAMES & set(relative.parts) or path.suffix in SKIPPED_SUFFIXES:
            continue  # bytecode of a local run: never shipped (package.py skips it), left alone
        if path.is_file() and relative.as_posix() not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    offences = absolute_imports(target)
    if offences:
        raise VendorError(f"absolute {DISTRIBUTION} imports in the vendored copy: {', '.join(offences)}")
    return version, written


def main() -> None:
    try:
        version, written = vendor()
    except VendorError as error:
        sys.exit(f"vendor: {error}")
    print(f"Vendored {DISTRIBUTION} {version} into {TARGET.relative_to(ROOT)} ({written} files written)")


if __name__ == "__main__":
    main()
