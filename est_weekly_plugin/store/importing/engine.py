"""The import itself: plan (map, find problem rows, rows already imported, near-duplicates), then write.

``prepare_import`` changes nothing: it is the wizard's preview and the Processing algorithm's dry
run. ``write_import`` inserts the plan's good new rows through the store's batch insert — one
transaction, all of them or none (a cancel rolls back) — with their source and the source's own
id; (source, source id) is unique in the database, so importing the same file again adds nothing.
Rows enter as submitted for the reviewer; a source an administrator marked trusted enters approved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...domain.duplicates import minute_intervals
from ...domain.errors import EstError
from ...domain.i18n import tr
from ...domain.model import AREA_PRECISION_CODE, PRECISION_CODES, Status
from ...domain.privacy import scan_texts
from ..batch import EventBatch
from .mapping import REASONS, Locator, MappedRows, map_rows
from .profiles import ImportProfile, guess_profile
from .reading import SourceTable, read_source

Progress = Callable[[float], "bool | None"]
DUPLICATE_DISTANCE_M = 150.0  # the defaults of the brief; the reviewer's own settings win when given
DUPLICATE_WINDOW_H = 2.0


@dataclass(frozen=True)
class ProblemRow:
    """A row that is not imported: its number as the user counts it, why, and the offending value."""

    row: int
    reason: str
    value: str = ""

    def text(self, lang: str | None = None) -> str:
        return tr(f"import.problem.{self.reason}", lang, value=self.value)


@dataclass
class ImportPlan:
    """What an import would do; nothing written yet."""

    table: SourceTable
    profile: ImportProfile
    rows: MappedRows
    already: np.ndarray  # bool: good rows whose (source, source id) is stored already
    near: np.ndarray  # bool: new rows resembling a stored event (same category, near in place and time)
    trusted: bool = False
    row_offset: int = 1

    @property
    def new_rows(self) -> np.ndarray:
        return self.rows.good & ~self.already

    def counts(self) -> dict[str, int]:
        return {"new": int(self.new_rows.sum()), "already": int((self.rows.good & self.already).sum()),
                "problems": int((~self.rows.good).sum()), "near": int((self.near & self.new_rows).sum()),
                "total": len(self.rows)}

    def problems(self, limit: int = 1000) -> list[ProblemRow]:
        """The problem rows in file order (at most *limit*), each with its reason."""
        bad = np.flatnonzero(~self.rows.good)[:limit].tolist()
        return [ProblemRow(index + self.row_offset, REASONS[int(self.rows.reason[index]) - 1],
                           self.rows.detail.get(index, "")) for index in bad]

    def problem_counts(self) -> dict[str, int]:
        codes = np.bincount(self.rows.reason, minlength=len(REASONS) + 1)
        return {reason: int(codes[i + 1]) for i, reason in enumerate(REASONS) if codes[i + 1]}

    def preview(self, count: int = 20) -> list[dict[str, Any]]:
        """The first rows after mapping, as the wizard shows them (problem rows with their reason)."""
        result = []
        for index in range(min(count, len(self.rows))):
            r = self.rows
            minute, end = int(r.minute_from[index]), int(r.minute_to[index])
            time = "" if minute < 0 else f"{minute // 60:02d}:{minute % 60:02d}" + (
                f"–{end // 60:02d}:{end % 60:02d}" if end >= 0 and end != minute else "")
            reason = int(r.reason[index])
            result.append({
                "row": index + self.row_offset, "category": r.category[index] or "", "organisation":
                r.organisation[index] or "", "date": "" if np.isnat(r.event_date[index]) else str(r.event_date[index]),
                "time": time, "place_name": r.place_name[index], "description": r.description[index][:120],
                "x": float(r.x[index]), "y": float(r.y[index]), "precision": str(r.precision[index]),
                "source_id": r.source_id[index],
                "problem": "" if not reason else ProblemRow(0, REASONS[reason - 1], r.detail.get(index, "")).text(),
                "state": "problem" if reason else ("already" if self.already[index] else
                                                   ("near" if self.near[index] else "new")),
            })
        return result


@dataclass
class ImportSummary:
    """What an import did: "n new, m already imported, k problem rows" (and near-duplicates flagged)."""

    new: int
    already: int
    problems: int
    near_duplicates: int
    source: str
    problem_rows: list[ProblemRow] = field(default_factory=list)

    def message(self, lang: str | None = None) -> str:
        return tr("import.summary", lang, new=self.new, already=self.already, problems=self.problems,
                  near=self.near_duplicates)


def lookup_tables(store: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Lower-case codes and labels (Swedish, English) → code, for categories and organisations."""
    categories: dict[str, str] = {}
    for category in store.categories(active_only=True):
        for key in (category.label_en, category.label_sv, category.code):
            categories[key.strip().lower()] = category.code
    organisations: dict[str, str] = {}
    for organisation in store.organisations(active_only=True):
        for key in (organisation.name_en, organisation.name_sv, organisation.code):
            organisations[key.strip().lower()] = organisation.code
    return categories, organisations


def prepare_import(store: Any, table: SourceTable, profile: ImportProfile | None = None, *,
                   locator: Locator | None = None, today: dt.date | None = None,
                   duplicate_rule: tuple[float, float] = (DUPLICATE_DISTANCE_M, DUPLICATE_WINDOW_H)) -> ImportPlan:
    """Map *table* with *profile* (guessed from its columns when None) and check it against the store."""
    profile = profile or guess_profile(table.column_names, table.has_geometry)
    if profile.source not in {source["code"] for source in store.sources()}:
        raise EstError("import_unknown_source", source=profile.source)
    categories, organisations = lookup_tables(store)
    rows = map_rows(table, profile, store.validation_context(today), epsg=store.settings.epsg,
                    categories=categories, organisations=organisations, locator=locator)
    existing = store.existing_source_ids(profile.source) if len(rows) > 5000 else \
        store.existing_source_ids(profile.source, rows.source_id)
    already = np.fromiter(map(existing.__contains__, rows.source_id), dtype=bool, count=len(rows)) if existing \
        else np.zeros(len(rows), bool)
    near = near_duplicates(store, rows, rows.good & ~already, *duplicate_rule)
    return ImportPlan(table, profile, rows, already, near, trusted=store.source_trusted(profile.source),
                      row_offset=table.row_offset)


def near_duplicates(store: Any, rows: MappedRows, candidates: np.ndarray, distance_m: float,
                    window_h: float) -> np.ndarray:
    """Rows like an unrejected stored event: same category, within *distance_m* (the square the review
    panel searches) and *window_h* hours, any organisation. Area events have no place to compare."""
    result = np.zeros(len(rows), bool)
    placed = candidates & (np.array([PRECISION_CODES.get(p, 0) for p in rows.precision.tolist()], np.uint8)
                           < AREA_PRECISION_CODE) if len(rows) else candidates
    if not placed.any() or store.count() == 0:
        return result
    stored = [store.load_columns(status) for status in (Status.SUBMITTED, Status.APPROVED)]
    stored = [s.placed() for s in stored if len(s)]
    if not stored:
        return result
    new_index = np.flatnonzero(placed)
    for columns in stored:
        codes = {code: i for i, code in enumerate(columns.category_codes)}
        category = np.array([codes.get(c, -1) for c in rows.category[new_index].tolist()], np.int64)
        day = rows.event_date[new_index].astype(np.int64)
        start, end = minute_intervals(day, rows.minute_from[new_index], rows.minute_to[new_index])
        hits = _near(columns, category, rows.x[new_index], rows.y[new_index], start, end, distance_m, window_h)
        result[new_index[hits]] = True
    return result


def _near(columns: Any, category: np.ndarray, x: np.ndarray, y: np.ndarray, start: np.ndarray, end: np.ndarray,
          distance_m: float, window_h: float) -> np.ndarray:
    """Which new points have a stored event of the same category in the square and the time window:
    stored events binned in cells of *distance_m*, each new point checks its 3 × 3 cells."""
    cell = max(float(distance_m), 1.0)
    s_start, s_end = minute_intervals(columns.day, columns.minute_from, columns.minute_to)
    s_key = _cell_keys(columns.category.astype(np.int64), columns.x, columns.y, cell, 0, 0)
    order = np.argsort(s_key, kind="stable")
    sorted_keys = s_key[order]
    hits = np.zeros(x.size, bool)
    window = window_h * 60.0
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            keys = _cell_keys(category, x, y, cell, dx, dy)
            low, high = np.searchsorted(sorted_keys, keys, "left"), np.searchsorted(sorted_keys, keys, "right")
            for i in np.flatnonzero((high > low) & (category >= 0) & ~hits).tolist():
                other = order[low[i]:high[i]]
                close = (np.abs(columns.x[other] - x[i]) <= distance_m) & (np.abs(columns.y[other] - y[i]) <= distance_m)
                gap = np.maximum(np.maximum(s_start[other] - end[i], start[i] - s_end[other]), 0)
                hits[i] = bool((close & (gap <= window)).any())
    return hits


def _cell_keys(category: np.ndarray, x: np.ndarray, y: np.ndarray, cell: float, dx: int, dy: int) -> np.ndarray:
    cx = np.floor(np.asarray(x) / cell).astype(np.int64) + dx
    cy = np.floor(np.asarray(y) / cell).astype(np.int64) + dy
    return (category << 44) + ((cx & 0x3FFFFF) << 22) + (cy & 0x3FFFFF)


def batch_of(plan: ImportPlan, indexes: np.ndarray | None = None) -> EventBatch:
    """The new good rows as an EventBatch (status and review reason by the source's trust)."""
    rows = plan.rows
    index = np.flatnonzero(plan.new_rows) if indexes is None else indexes
    count = int(index.size)
    status = Status.APPROVED.value if plan.trusted else Status.SUBMITTED.value
    every = count == len(rows)  # the common first import: every row, no copying
    pick = index.tolist()
    place = rows.place_name if every else [rows.place_name[i] for i in pick]
    description = rows.description if every else [rows.description[i] for i in pick]
    texts = [f"{p}\n{d}" for p, d in zip(place, description)]
    flags = dict(zip(distinct := list(set(texts)), scan_texts(distinct)))  # repeated notes are scanned once
    return EventBatch(
        x=rows.x[index], y=rows.y[index], category=rows.category[index], organisation=rows.organisation[index],
        event_date=rows.event_date[index], minute_from=rows.minute_from[index], minute_to=rows.minute_to[index],
        place_name=place, description=description, reporter=[""] * count,
        status=np.full(count, status, dtype=object),
        review_reason=[f"trusted source: {plan.profile.source}"] * count if plan.trusted else None,
        personal_data=[flags[t] for t in texts],
        source_id=rows.source_id if every else [rows.source_id[i] for i in pick], location_precision=rows.precision[index],
    )


def write_import(store: Any, plan: ImportPlan, *, progress: Progress | None = None,
                 today: dt.date | None = None, actor: str | None = None) -> ImportSummary:
    """Insert the plan's new rows (all or none) and say what happened."""
    counts = plan.counts()
    batch = batch_of(plan)
    if len(batch):
        store.insert_batch(batch, today=today, progress=progress, source=plan.profile.source,
                           actor=actor or store._local_actor())
    elif progress is not None and progress(1.0) is False:
        raise EstError("cancelled")
    return ImportSummary(counts["new"], counts["already"], counts["problems"], counts["near"], plan.profile.source,
                         plan.problems())


def import_file(store: Any, path: str | Path, profile: ImportProfile | None = None, *, encoding: str = "auto",
                layer: str | None = None, locator: Locator | None = None, progress: Progress | None = None,
                today: dt.date | None = None) -> ImportSummary:
    """Read, plan and write a file in one call (scripts, the Processing algorithm, tests)."""
    table = read_source(path, layer=layer, encoding=encoding)
    plan = prepare_import(store, table, profile, locator=locator, today=today)
    return write_import(store, plan, progress=progress, today=today)
