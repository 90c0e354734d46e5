"""The GeoPackage's binary forms: geometry blobs (points fast, any geometry through QGIS), the
ST_* functions its R-tree triggers need on our own SQLite connection, the columns of the columnar
read decoded with numpy, and whether a file lies on a network share."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path
from typing import Any

import numpy as np

from .values import parse_wkt

_HEADER = struct.Struct("<2sBBi")  # magic, version, flags, srs_id
_POINT = struct.Struct("<BIdd")  # WKB: byte order, type, x, y
FLAGS_LE_NO_ENVELOPE = 0b00000001
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
POINT_BLOB = np.dtype([("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srid", "<i4"),
                        ("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
SQLITE_MAGIC = b"SQLite format 3\x00"
GPKG_APPLICATION_IDS = {0x47504B47, 0x47503130}  # 'GPKG', 'GP10'


def encode_point(x: float, y: float, srid: int) -> bytes:
    """A GeoPackage geometry blob for a 2-D point (no envelope, little-endian)."""
    return _HEADER.pack(b"GP", 0, FLAGS_LE_NO_ENVELOPE, srid) + _POINT.pack(1, 1, x, y)


def _geometry_wkb(blob: bytes) -> memoryview:
    if blob is None or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry")
    flags = blob[3]
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0b111, 0)
    return memoryview(blob)[8 + envelope:]


def encode_geometry(wkt: str, srid: int) -> bytes:
    """A GeoPackage geometry blob for any geometry given as WKT (no envelope)."""
    return _HEADER.pack(b"GP", 0, FLAGS_LE_NO_ENVELOPE, srid) + bytes(parse_wkt(wkt).asWkb())


def decode_geometry(blob: Any) -> str | None:
    """WKT (3 decimals, as QGIS writes it) of a GeoPackage geometry blob; None if it is not one."""
    from qgis.core import QgsGeometry

    try:
        wkb = _geometry_wkb(bytes(blob))
    except (ValueError, TypeError):
        return None
    geometry = QgsGeometry()
    geometry.fromWkb(bytes(wkb))
    return geometry.asWkt(3) if not geometry.isNull() else None


def decode_point(blob: bytes) -> tuple[float, float]:
    wkb = _geometry_wkb(blob)
    little = wkb[0] == 1
    x, y = struct.unpack_from("<dd" if little else ">dd", wkb, 5)
    return x, y


def _envelope(blob: bytes) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a point blob — what the R-tree triggers need."""
    if blob is None:
        return None
    try:
        x, y = decode_point(blob)
    except (ValueError, struct.error):
        return None
    return (x, x, y, y)


def register_gpkg_functions(conn: sqlite3.Connection) -> None:
    """ST_* functions the GeoPackage R-tree triggers call (GDAL defines them in its own driver)."""
    conn.create_function("ST_IsEmpty", 1, lambda g: 1 if _envelope(g) is None else 0, deterministic=True)
    for index, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(
            name, 1, lambda g, i=index: (_envelope(g) or (None,) * 4)[i], deterministic=True
        )


_NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "davfs", "fuse.rclone"}


def network_share(path: Path) -> bool:
    """Whether *path* lies on a network file system (UNC path or a network mount)."""
    text = str(path)
    if text.startswith(("\\\\", "//")):
        return True
    try:
        resolved = str(Path(path).resolve())
        best, kind = "", ""
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                parts = line.split()
                if len(parts) > 2 and resolved.startswith(parts[1]) and len(parts[1]) > len(best):
                    best, kind = parts[1], parts[2]
        return kind in _NETWORK_FILESYSTEMS
    except OSError:  # not Linux: Windows drive letters mapped to shares show as UNC once resolved
        return str(Path(path).resolve()).startswith("\\\\")


CODE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# Bytes 4..29 of a point blob: flags, srs_id, WKB byte order, WKB type, x, y.
POINT_TAIL = np.dtype([("flags", "u1"), ("srid", "<i4"), ("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
CHAR_INDEX = np.full(256, -1, dtype=np.int16)
CHAR_INDEX[np.frombuffer(CODE_CHARS.encode(), dtype=np.uint8)] = np.arange(len(CODE_CHARS))


def code_case(column: str, codes: list[str]) -> str:
    """SQL mapping each known code to one character (its position in *codes*)."""
    branches = " ".join(f"WHEN '{code.replace(chr(39), chr(39) * 2)}' THEN '{CODE_CHARS[i]}'"
                        for i, code in enumerate(codes))
    return f"(CASE {column} {branches} ELSE '?' END)"


def _digits(values: np.ndarray) -> np.ndarray:
    return values.astype(np.int32) - ord("0")


def minutes(hhmm: np.ndarray) -> np.ndarray:
    """'HH:MM' bytes → minutes after midnight; '-----' → -1."""
    d = _digits(hhmm)
    minutes = (d[:, 0] * 10 + d[:, 1]) * 60 + d[:, 3] * 10 + d[:, 4]
    return np.where(hhmm[:, 0] == ord("-"), -1, minutes)


def days_from_iso(dates: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD' bytes → days since 1970-01-01 (Howard Hinnant's days_from_civil)."""
    d = _digits(dates)
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 5] * 10 + d[:, 6]
    day = d[:, 8] * 10 + d[:, 9]
    year = year - (month <= 2)
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def timestamps(values: np.ndarray) -> list[str | None]:
    """datetime64[ms] → GeoPackage DATETIME text (UTC, 'Z'); NaT → None."""
    values = values.astype("datetime64[ms]")
    text = np.datetime_as_string(values, unit="ms", timezone="UTC").astype(object)
    text[np.isnat(values)] = None
    return text.tolist()
