"""Deterministic demo data: two years of realistic EST reports for Helsingborg.

The same seed and end date give the same events, so tests, benchmarks and the demo PDF are
reproducible. Events follow the rhythms an EST group knows: weekend nights for disorder and
alcohol, school hours for littering, mornings for found needles; a few persistent hot-spots
(Knutpunkten, Stortorget, Drottninghög centrum …) and one emerging over the last weeks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..domain.model import Status
from ..domain.reference import default_categories, default_organisations, districts, municipality
from .batch import EventBatch, random_uuids

HISTORY_DAYS = 730


@dataclass(frozen=True)
class HotSpot:
    name: str
    x: float
    y: float
    spread_m: float
    categories: dict[str, float]
    share: float  # share of all events
    emerging_weeks: int = 0  # > 0: only active in the last N weeks, growing


HOTSPOTS = (
    HotSpot("Knutpunkten", 356230, 6213280, 90, {"samlingsplats": 4, "narkotika": 3, "ordningsstorning": 3,
            "alkohol": 2, "stold_inbrott": 2, "hot_vald": 1}, 0.070),
    HotSpot("Stortorget", 356420, 6213760, 80, {"ordningsstorning": 4, "alkohol": 3, "nedskrapning": 2,
            "hot_vald": 1, "samlingsplats": 2}, 0.050),
    HotSpot("Drottninghögs centrum", 359122, 6215144, 120, {"skadegorelse": 3, "brand": 2, "samlingsplats": 3,
            "fordon": 2, "klotter": 2}, 0.050),
    HotSpot("Gustav Adolfs torg", 356887, 6212410, 90, {"nedskrapning": 3, "alkohol": 2, "sprutor": 2,
            "otrygg_plats": 2}, 0.035),
    HotSpot("Planteringens torg", 358636, 6214413, 110, {"narkotika": 3, "samlingsplats": 2, "klotter": 2,
            "otrygg_plats": 2}, 0.030),
    HotSpot("Råå hamn", 359205, 6208937, 140, {"fordon": 3, "nedskrapning": 2, "skadegorelse": 1}, 0.015),
    HotSpot("Dalhems skatepark", 359710, 6216590, 70, {"skadegorelse": 4, "klotter": 4, "samlingsplats": 3,
            "brand": 1}, 0.0025, emerging_weeks=5),
)

# Hour-of-day profiles (24 weights) and weekday profiles (Mon … Sun) by category.
_NIGHT = np.array([6, 5, 4, 2, 1, 0.5, 0.3, 0.3, 0.3, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1, 1.3, 1.8, 2.5, 3.5, 4.5, 5.5, 6.5, 7])
_EVENING = np.array([2, 1.5, 1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.5, 0.6, 0.8, 1, 1.1, 1.2, 1.5, 2.2, 3, 3.8, 4.5, 5, 5, 4.5, 3.8, 3])
_SCHOOL = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 1.5, 3, 3.5, 4, 5, 5.5, 5, 4.5, 4, 3, 2, 1.2, 0.8, 0.5, 0.3, 0.2, 0.1])
_DAY = np.array([0.4, 0.3, 0.2, 0.2, 0.2, 0.4, 1, 2, 3, 3.5, 3.8, 4, 4, 4, 4, 4, 3.8, 3.5, 3, 2.5, 2, 1.5, 1, 0.6])
_MORNING = np.array([0.2, 0.2, 0.2, 0.3, 0.5, 1.5, 4, 6, 6, 4.5, 3, 2, 1.5, 1, 0.8, 0.6, 0.5, 0.4, 0.3, 0.3, 0.2, 0.2, 0.2, 0.2])
_WEEKEND = np.array([0.7, 0.7, 0.8, 1.0, 2.4, 2.8, 1.6])
_WEEKDAYS = np.array([1.3, 1.3, 1.3, 1.3, 1.2, 0.5, 0.4])
_EVEN = np.ones(7)

PROFILES: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "samlingsplats": (_EVENING, _WEEKEND), "skadegorelse": (_NIGHT, _WEEKEND), "klotter": (_NIGHT, _EVEN),
    "narkotika": (_EVENING, _EVEN), "nedskrapning": (_SCHOOL, _WEEKDAYS), "ordningsstorning": (_NIGHT, _WEEKEND),
    "brand": (_EVENING, _WEEKEND), "hot_vald": (_NIGHT, _WEEKEND), "stold_inbrott": (_DAY, _EVEN),
    "fordon": (_EVENING, _WEEKEND), "otrygg_plats": (_EVENING, _EVEN), "alkohol": (_EVENING, _WEEKEND),
    "sprutor": (_MORNING, _EVEN), "ovrigt": (_DAY, _EVEN),
}

# Background mix of categories outside hot-spots.
_BACKGROUND = {"nedskrapning": 5, "klotter": 5, "skadegorelse": 4, "otrygg_plats": 3, "stold_inbrott": 3,
               "ordningsstorning": 2, "fordon": 2, "samlingsplats": 2, "alkohol": 1, "narkotika": 1,
               "brand": 1, "sprutor": 1, "hot_vald": 0.5, "ovrigt": 1}

# Which organisations report which categories (weights).
_REPORTERS = {
    "polisen": {"narkotika": 5, "hot_vald": 5, "ordningsstorning": 4, "alkohol": 3, "samlingsplats": 2, "fordon": 3},
    "bevakning": {"skadegorelse": 4, "klotter": 3, "samlingsplats": 3, "ordningsstorning": 2, "stold_inbrott": 3},
    "kollektivtrafik": {"samlingsplats": 2, "skadegorelse": 2, "klotter": 2, "ordningsstorning": 2},
    "fastighet_privat": {"klotter": 4, "skadegorelse": 3, "nedskrapning": 2, "stold_inbrott": 2, "brand": 1},
    "bostad_kommunal": {"klotter": 3, "skadegorelse": 3, "nedskrapning": 3, "brand": 2, "otrygg_plats": 2},
    "sbf": {"nedskrapning": 4, "otrygg_plats": 4, "klotter": 2, "sprutor": 2, "ovrigt": 2},
    "skol_fritid": {"samlingsplats": 3, "nedskrapning": 2, "skadegorelse": 2, "alkohol": 1},
    "social": {"sprutor": 4, "narkotika": 2, "alkohol": 3, "otrygg_plats": 1},
    "raddning": {"brand": 6, "fordon": 1},
    "kultur": {"klotter": 1, "skadegorelse": 1, "ovrigt": 1},
    "slf_trygghet": {"otrygg_plats": 2, "ovrigt": 2, "samlingsplats": 1},
}

_PLACE_KINDS = ("busshållplats", "skolgård", "parkering", "lekplats", "torg", "gångtunnel", "parkområde",
                "centrumhus", "cykelställ", "återvinningsstation")
_DESCRIPTIONS = {
    "samlingsplats": "Grupp ungdomar samlade, hög musik",
    "skadegorelse": "Krossad glasruta och sönderslagen belysning",
    "klotter": "Nya taggar på fasad och elskåp",
    "narkotika": "Misstänkt försäljning, lukt av cannabis",
    "nedskrapning": "Mycket skräp och nedskräpning efter helgen",
    "ordningsstorning": "Bråk och skrik, boende störda",
    "brand": "Brand i papperskorg, släckt",
    "hot_vald": "Hot mot personal vid entrén",
    "stold_inbrott": "Inbrott i förråd, cyklar stulna",
    "fordon": "Buskörning med moped på gångbanan",
    "otrygg_plats": "Trasig belysning, mörkt och otryggt",
    "alkohol": "Berusade personer, langning misstänks",
    "sprutor": "Funna sprutor vid lekplatsen",
    "ovrigt": "Övrig iakttagelse som påverkar tryggheten",
}


def _choice(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=p / p.sum())]


def demo_batch(count: int, *, seed: int = 48, end_date: dt.date | None = None) -> EventBatch:
    """*count* demo events over two years ending at *end_date* (default: yesterday)."""
    rng = np.random.default_rng(seed)
    end = end_date or (dt.date.today() - dt.timedelta(days=1))
    start = end - dt.timedelta(days=HISTORY_DAYS - 1)
    town = municipality()
    xmin, ymin, xmax, ymax = town["extent"]
    urban = town["urban_core"]

    # --- where: hot-spots, district backgrounds, scattered urban events
    x = np.empty(count)
    y = np.empty(count)
    category = np.empty(count, dtype=object)
    place = np.empty(count, dtype=object)
    emerging_weeks = np.zeros(count, dtype=np.int16)
    shares = [h.share for h in HOTSPOTS]
    kind = rng.choice(len(HOTSPOTS) + 2, size=count, p=[*shares, 0.55, 1 - sum(shares) - 0.55])
    for index, spot in enumerate(HOTSPOTS):
        members = np.flatnonzero(kind == index)
        x[members] = rng.normal(spot.x, spot.spread_m, len(members))
        y[members] = rng.normal(spot.y, spot.spread_m, len(members))
        category[members] = _choice(rng, spot.categories, len(members))
        place[members] = spot.name
        emerging_weeks[members] = spot.emerging_weeks
    district_list = districts()
    around = np.flatnonzero(kind == len(HOTSPOTS))
    weights = np.array([3.0 if d.kind == "urban" else 1.0 for d in district_list])
    which = rng.choice(len(district_list), size=len(around), p=weights / weights.sum())
    spread = np.where(np.array([d.kind for d in district_list])[which] == "urban", 450, 600)
    x[around] = np.array([d.x for d in district_list])[which] + rng.normal(0, 1, len(around)) * spread
    y[around] = np.array([d.y for d in district_list])[which] + rng.normal(0, 1, len(around)) * spread
    scattered = np.flatnonzero(kind == len(HOTSPOTS) + 1)
    x[scattered] = rng.uniform(urban[0], urban[2], len(scattered))
    y[scattered] = rng.uniform(urban[1], urban[3], len(scattered))
    background = np.concatenate([around, scattered])
    category[background] = _choice(rng, _BACKGROUND, len(background))
    names = np.array([d.name for d in district_list], dtype=object)
    nearest = _nearest_district(x[background], y[background])
    kinds = np.array(_PLACE_KINDS, dtype=object)[rng.integers(0, len(_PLACE_KINDS), len(background))]
    place[background] = names[nearest] + " – " + kinds
    np.clip(x, xmin + 1, xmax - 1, out=x)
    np.clip(y, ymin + 1, ymax - 1, out=y)

    # --- when: week with seasonality and growth, weekday and hour by category
    weeks = HISTORY_DAYS // 7 + 1
    week_index = np.arange(weeks)
    season = 1 + 0.35 * np.sin(2 * np.pi * (week_index / 52.18 - 0.2))
    growth = 1 + 0.25 * week_index / weeks
    week_p = season * growth
    week = rng.choice(weeks, size=count, p=week_p / week_p.sum())
    weekday = np.empty(count, dtype=np.int64)
    hour = np.empty(count, dtype=np.int64)
    for code, (hours, days) in PROFILES.items():
        members = np.flatnonzero(category == code)
        weekday[members] = rng.choice(7, size=len(members), p=days / days.sum())
        hour[members] = rng.choice(24, size=len(members), p=hours / hours.sum())
    # Emerging hot-spot: only in its last weeks, growing week by week.
    emerging = np.flatnonzero(emerging_weeks > 0)
    if len(emerging):
        span = int(emerging_weeks[emerging[0]])
        ramp = np.arange(1, span + 1, dtype=float)
        week[emerging] = weeks - span + rng.choice(span, size=len(emerging), p=ramp / ramp.sum())
    # Align weeks on Mondays so weekday profiles land on the right days.
    first_monday = start - dt.timedelta(days=start.weekday())
    day_offset = week * 7 + weekday
    dates = np.datetime64(first_monday, "D") + day_offset.astype("timedelta64[D]")
    overflow = dates > np.datetime64(end, "D")
    dates[overflow] -= np.timedelta64(7, "D")
    early = dates < np.datetime64(start, "D")
    dates[early] += np.timedelta64(7, "D")

    minute_from = hour * 60 + rng.integers(0, 12, count) * 5
    timing = rng.random(count)
    unknown = timing < 0.08
    spanning = (timing >= 0.08) & (timing < 0.22)
    length = rng.integers(1, 5, count) * 60
    minute_to = np.where(spanning, np.minimum(minute_from + length, 1439), -1)
    morning = (category == "sprutor") & spanning
    minute_from = np.where(morning, 360, minute_from)
    minute_to = np.where(morning, 600, minute_to)
    minute_from = np.where(unknown, -1, minute_from)
    minute_to = np.where(unknown, -1, minute_to)

    # --- who, and what happened to the report
    organisation = np.empty(count, dtype=object)
    orgs = [o.code for o in default_organisations()]
    for code in PROFILES:
        members = np.flatnonzero(category == code)
        w = {org: _REPORTERS.get(org, {}).get(code, 0.15) for org in orgs}
        organisation[members] = _choice(rng, w, len(members))
    age = (np.datetime64(end, "D") - dates).astype(int)
    roll = rng.random(count)
    status = np.where(roll < 0.05, Status.REJECTED.value, Status.APPROVED.value).astype(object)
    status[(age < 6) & (roll > 0.7)] = Status.SUBMITTED.value
    reviewed = status != Status.SUBMITTED.value
    created = dates.astype("datetime64[ms]") + (np.maximum(minute_from, 0) * 60_000 + 3_600_000).astype("timedelta64[ms]")
    reviewed_at = np.where(reviewed, created + np.timedelta64(20, "h"), np.datetime64("NaT", "ms"))
    reviewers = np.where(reviewed, "trygghet.granskare", None).tolist()
    reasons = np.where(status == Status.REJECTED.value, "Dubblett eller utanför EST:s uppdrag", None).tolist()
    descriptions = np.array([_DESCRIPTIONS[c.code] for c in default_categories()], dtype=object)
    code_index = {c.code: i for i, c in enumerate(default_categories())}
    description = descriptions[np.array([code_index[c] for c in category.tolist()])]

    return EventBatch(
        x=np.round(x, 1), y=np.round(y, 1), category=category, organisation=organisation, event_date=dates,
        minute_from=minute_from.astype(np.int16), minute_to=minute_to.astype(np.int16),
        place_name=place.tolist(), description=description.tolist(),
        reporter=(organisation + ".rapportor").tolist(), status=status,
        uuid=random_uuids(count, rng), reviewer=reviewers, review_reason=reasons,
        reviewed_at=reviewed_at.astype("datetime64[ms]"), created_at=created,
    )


def _nearest_district(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    points = districts()
    dx = x[:, None] - np.array([d.x for d in points])[None, :]
    dy = y[:, None] - np.array([d.y for d in points])[None, :]
    return np.argmin(dx * dx + dy * dy, axis=1)
