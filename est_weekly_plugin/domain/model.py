"""The EST event model: what a report is, and the columnar form the compilation works on."""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np

from .i18n import label


class Status(str, Enum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Precision(str, Enum):
    """What an event's point stands for. Area precisions (district, municipality: e.g. the police's
    open events, placed at a municipality's centroid) are counted but never drawn as points nor used
    in density or hot-spot statistics; street-precision points are drawn (marked) and used."""

    POINT = "point"
    STREET = "street"
    DISTRICT = "district"
    MUNICIPALITY = "municipality"

    @property
    def code(self) -> int:
        """The uint8 code of ``EventColumns.precision``."""
        return PRECISION_CODES[self.value]

    @property
    def is_area(self) -> bool:
        return self in (Precision.DISTRICT, Precision.MUNICIPALITY)


PRECISION_CODES = {"point": 0, "street": 1, "district": 2, "municipality": 3}
# EventColumns.precision at or above this code is an area: counted, never drawn, not in hot-spots.
AREA_PRECISION_CODE = 2


class Role(str, Enum):
    """Who may do what. On PostGIS these are database roles; on a GeoPackage a local setting."""

    REPORTER = "reporter"
    REVIEWER = "reviewer"
    VIEWER = "viewer"
    ADMIN = "admin"


@dataclass(frozen=True)
class Category:
    code: str
    label_sv: str
    label_en: str
    colour: str
    description_sv: str = ""
    description_en: str = ""
    active: bool = True
    sort_order: int = 0

    def label(self, lang: str | None = None) -> str:
        return label(self.label_sv, self.label_en, lang)

    def description(self, lang: str | None = None) -> str:
        return label(self.description_sv, self.description_en, lang)


@dataclass(frozen=True)
class Organisation:
    code: str
    name_sv: str
    name_en: str
    kind: str = ""
    active: bool = True

    def name(self, lang: str | None = None) -> str:
        return label(self.name_sv, self.name_en, lang)


@dataclass
class Event:
    """One report. ``time_from``/``time_to`` both ``None`` means the time is unknown;
    ``time_to`` alone ``None`` means a point in time."""

    category: str
    organisation: str
    event_date: dt.date
    x: float
    y: float
    time_from: dt.time | None = None
    time_to: dt.time | None = None
    place_name: str = ""
    description: str = ""
    reporter: str = ""
    status: Status = Status.SUBMITTED
    uuid: str = field(default_factory=lambda: str(uuid_module.uuid4()))
    reviewer: str | None = None
    reviewed_at: dt.datetime | None = None
    review_reason: str | None = None
    duplicate_of: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    version: int = 1
    fid: int | None = None
    personal_data: str = ""  # kinds of likely personal data found in the free text (domain.privacy)
    location_precision: Precision = Precision.POINT
    source: str = "form"  # the sources table's code: the form, a file import, the police feed …
    source_id: str | None = None  # the source's own id (re-importing the same row adds nothing)

    @property
    def time_unknown(self) -> bool:
        return self.time_from is None

    def with_changes(self, **changes: object) -> Event:
        return replace(self, **changes)


# Fields a reviewer or reporter may change; the audit log records these from → to.
EDITABLE_FIELDS = (
    "category",
    "organisation",
    "event_date",
    "time_from",
    "time_to",
    "x",
    "y",
    "place_name",
    "description",
    "location_precision",
)


@dataclass
class EventColumns:
    """Events as numpy columns: what density, hot-spots, filters and charts run on.

    Codes are small integers indexing ``category_codes`` / ``organisation_codes`` so a
    million events fit in a few tens of megabytes and filters are vectorised masks.
    ``minute_from``/``minute_to`` are minutes after midnight, -1 when the time is unknown;
    ``minute_to`` equals ``minute_from`` for a point in time.
    """

    fid: np.ndarray  # int64
    x: np.ndarray  # float64, store CRS
    y: np.ndarray  # float64
    category: np.ndarray  # int16 index into category_codes
    organisation: np.ndarray  # int16 index into organisation_codes
    day: np.ndarray  # int32 days since 1970-01-01
    weekday: np.ndarray  # int8, 0 = Monday … 6 = Sunday
    minute_from: np.ndarray  # int16, -1 = unknown
    minute_to: np.ndarray  # int16, -1 = unknown
    category_codes: list[str]
    organisation_codes: list[str]
    precision: np.ndarray | None = None  # uint8 Precision.code; filled with 0 (point) when not given

    def __post_init__(self) -> None:
        if self.precision is None:
            self.precision = np.zeros(len(self.x), np.uint8)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def placed(self) -> EventColumns:
        """The events placed precisely enough to draw and to enter density and hot-spot statistics
        (point and street precision); area events are counted elsewhere but never drawn."""
        area = self.precision >= AREA_PRECISION_CODE
        return self.subset(~area) if area.any() else self

    def subset(self, mask: np.ndarray) -> EventColumns:
        """The events where *mask* is true (a boolean array or index array)."""
        return EventColumns(
            fid=self.fid[mask],
            x=self.x[mask],
            y=self.y[mask],
            category=self.category[mask],
            organisation=self.organisation[mask],
            day=self.day[mask],
            weekday=self.weekday[mask],
            minute_from=self.minute_from[mask],
            minute_to=self.minute_to[mask],
            category_codes=self.category_codes,
            organisation_codes=self.organisation_codes,
            precision=self.precision[mask],
        )

    @staticmethod
    def concatenate(parts: list[EventColumns]) -> EventColumns:
        """One set of columns from parts read separately (all coded with the same lists)."""
        first = parts[0]
        names = ("fid", "x", "y", "category", "organisation", "day", "weekday", "minute_from", "minute_to", "precision")
        return EventColumns(**{name: np.concatenate([getattr(part, name) for part in parts]) for name in names},
                            category_codes=first.category_codes, organisation_codes=first.organisation_codes)

    @staticmethod
    def empty(category_codes: list[str], organisation_codes: list[str]) -> EventColumns:
        return EventColumns(
            fid=np.zeros(0, np.int64),
            x=np.zeros(0, np.float64),
            y=np.zeros(0, np.float64),
            category=np.zeros(0, np.int16),
            organisation=np.zeros(0, np.int16),
            day=np.zeros(0, np.int32),
            weekday=np.zeros(0, np.int8),
            minute_from=np.zeros(0, np.int16),
            minute_to=np.zeros(0, np.int16),
            category_codes=category_codes,
            organisation_codes=organisation_codes,
        )

    def dates(self) -> np.ndarray:
        """The event dates as ``datetime64[D]``."""
        return self.day.astype("datetime64[D]")


@dataclass(frozen=True)
class ColumnsDelta:
    """What changed since a change token: the compilation merges it instead of reloading.

    ``changed_fids`` are every event changed since the token (approved, rejected, corrected,
    redacted …); ``columns`` hold those of them that are approved now and visible to the login,
    coded with the caller's category and organisation lists. ``token`` is for the next call.
    """

    token: int
    changed_fids: np.ndarray  # int64
    columns: EventColumns

    def __len__(self) -> int:
        return int(self.changed_fids.size)


EPOCH = dt.date(1970, 1, 1)


def day_number(date: dt.date) -> int:
    """Days since 1970-01-01: the unit of ``EventColumns.day``."""
    return (date - EPOCH).days


def date_from_day(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def minute_of_day(value: dt.time | None) -> int:
    return -1 if value is None else value.hour * 60 + value.minute


@dataclass(frozen=True)
class Login:
    """Who is using the database: on PostGIS all three come from the database (memberships);
    on a GeoPackage the role is a local choice and ``enforced`` is False."""

    login: str
    organisation: str | None
    role: Role | None
    enforced: bool
    display_name: str = ""
    active: bool = True
    maintainer: bool = False  # the schema's owner without a membership: its own jobs, not a partner login
