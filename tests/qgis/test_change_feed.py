"""The change feed: after an approval, rejection or correction made anywhere, merging the delta
gives exactly the engine a full reload gives — columns, caches and numbers — on both backends,
including a transaction that commits after a later one (PostGIS)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from conftest import make_event

from est_weekly_plugin.analysis.column_merge import merge_columns, plan_merge
from est_weekly_plugin.analysis.compilation import CompilationEngine
from est_weekly_plugin.analysis.filters import CompilationFilter
from est_weekly_plugin.domain.model import ColumnsDelta, EventColumns, Role, Status
from est_weekly_plugin.store.demo import demo_batch

TODAY = dt.date(2026, 11, 23)
ARRAYS = ("fid", "x", "y", "category", "organisation", "day", "weekday", "minute_from", "minute_to")


def assert_same_engine(merged: CompilationEngine, fresh: CompilationEngine) -> None:
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(merged.columns, name), getattr(fresh.columns, name), err_msg=name)
    fresh.warm_up()
    np.testing.assert_array_equal(merged.district_index, fresh.district_index)
    if merged._weeks is not None:  # carried over: same week of every event
        first, index = merged._weeks
        fresh_first, fresh_index = fresh._weeks
        np.testing.assert_array_equal(first + 7 * index, fresh_first + 7 * fresh_index)
    for compilation_filter in (CompilationFilter(), CompilationFilter(categories=["klotter"]),
                               CompilationFilter(weekdays=[5, 6], hour_start=20, hour_end=4)):
        a, b = merged.compute(compilation_filter), fresh.compute(compilation_filter)
        assert a.count == b.count
        np.testing.assert_array_equal(a.charts.weekday_hour, b.charts.weekday_hour)
        np.testing.assert_array_equal(a.charts.week_counts, b.charts.week_counts)


def random_columns(n: int, seed: int, fids: np.ndarray | None = None) -> EventColumns:
    rng = np.random.default_rng(seed)
    day = rng.integers(20000, 20400, n).astype(np.int32)
    start = rng.integers(-1, 1440, n).astype(np.int16)
    return EventColumns(
        fid=np.sort(rng.choice(10 * n, n, replace=False)).astype(np.int64) if fids is None else fids,
        x=rng.uniform(350_000, 365_000, n), y=rng.uniform(6_205_000, 6_222_000, n),
        category=rng.integers(0, 3, n).astype(np.int16), organisation=rng.integers(0, 2, n).astype(np.int16),
        day=day, weekday=((day + 3) % 7).astype(np.int8), minute_from=start,
        minute_to=np.where(start < 0, -1, np.minimum(start + 30, 1439)).astype(np.int16),
        category_codes=["klotter", "skadegorelse", "nedskrapning"], organisation_codes=["polisen", "vaktbolag"],
    )


def test_a_merge_is_a_reload_for_any_mix_of_leaving_coming_and_changed_events() -> None:
    rng = np.random.default_rng(1)
    base = random_columns(5_000, 2)
    engine = CompilationEngine(base)
    engine.warm_up()
    leaving = rng.choice(base.fid, 40, replace=False)
    changed_in_place = rng.choice(np.setdiff1d(base.fid, leaving), 30, replace=False)
    coming = np.setdiff1d(np.arange(60_000), base.fid)[rng.choice(20_000, 25, replace=False)]
    back = np.sort(np.concatenate([changed_in_place, coming]))
    added = random_columns(back.size, 3, fids=back)
    delta = ColumnsDelta(token=9, changed_fids=np.concatenate([leaving, back, [10**9]]), columns=added)

    merged = engine.with_changes(delta)

    keep = ~np.isin(base.fid, np.concatenate([leaving, back]))
    expected = {name: np.concatenate([getattr(base, name)[keep], getattr(added, name)]) for name in ARRAYS}
    order = np.argsort(expected["fid"])
    fresh = CompilationEngine(EventColumns(**{k: v[order] for k, v in expected.items()},
                                           category_codes=base.category_codes,
                                           organisation_codes=base.organisation_codes))
    assert len(merged) == 5_000 - 40 + 25 and merged.change_token == 9
    assert_same_engine(merged, fresh)


def test_a_new_time_profile_or_an_earlier_week_rebuilds_that_cache_only() -> None:
    base = random_columns(1_000, 4)
    engine = CompilationEngine(base)
    engine.warm_up()
    odd = random_columns(1, 5, fids=np.array([10**6]))
    odd.day[:] = 15000  # far before every other event
    odd.weekday[:] = (15000 + 3) % 7
    odd.minute_from[:], odd.minute_to[:] = 1, 2  # 00:01–00:02, surely new
    merged = engine.with_changes(ColumnsDelta(1, odd.fid, odd))
    assert merged._weeks is None and merged._profiles is None and merged._district_index is not None
    assert_same_engine(merged, CompilationEngine(EventColumns(
        **{name: np.concatenate([getattr(base, name), getattr(odd, name)]) for name in ARRAYS},
        category_codes=base.category_codes, organisation_codes=base.organisation_codes)))


def test_a_plan_removes_exactly_the_changed_fids_it_holds() -> None:
    plan = plan_merge(np.array([2, 4, 6, 8]), np.array([8, 3, 2, 100]), np.array([3, 5]))
    assert plan.removed.tolist() == [0, 3]
    assert plan.apply(np.array([2, 4, 6, 8]), np.array([3, 5])).tolist() == [3, 4, 5, 6]
    with pytest.raises(ValueError):
        merge_columns(random_columns(3, 1), ColumnsDelta(1, np.zeros(0, np.int64), EventColumns.empty(["x"], [])))


def _reviewed(store, decision: Status, **changes) -> int:  # noqa: ANN001
    saved = store.submit(make_event(event_date=TODAY - dt.timedelta(days=3), **changes), actor="bo", today=TODAY)
    reason = "fel plats" if decision == Status.REJECTED else None
    return store.review(saved.uuid, saved.version, "granskare.gun", decision, reason=reason, today=TODAY).fid


def test_a_delta_after_approvals_rejections_and_corrections_equals_a_reload(store) -> None:  # noqa: ANN001
    store.insert_batch(demo_batch(4_000, end_date=TODAY - dt.timedelta(days=1), seed=8), today=TODAY)
    corrected = store.get(store.approved_events_by_fid(store.load_columns().fid[:1].tolist())[0].uuid)
    token = store.change_token()
    engine = CompilationEngine(store.load_columns())
    engine.warm_up()
    engine.change_token = token
    assert store.approved_changes(token, engine.columns.category_codes,
                                  engine.columns.organisation_codes).changed_fids.size == 0

    approved = _reviewed(store, Status.APPROVED, category="narkotika")
    rejected = _reviewed(store, Status.REJECTED)
    store.update_event(corrected.uuid, corrected.version, "granskare.gun", as_reporter=False,
                       category="nedskrapning" if corrected.category != "nedskrapning" else "klotter",
                       x=corrected.x + 250.0)
    delta = store.approved_changes(token, engine.columns.category_codes, engine.columns.organisation_codes)

    assert {approved, rejected, corrected.fid} <= set(delta.changed_fids.tolist())
    assert sorted(delta.columns.fid.tolist()) == sorted([approved, corrected.fid])
    merged = engine.with_changes(delta)
    assert merged.change_token == delta.token
    assert_same_engine(merged, CompilationEngine(store.load_columns()))
    again = store.approved_changes(delta.token, engine.columns.category_codes, engine.columns.organisation_codes)
    assert again.changed_fids.size == 0  # nothing new since


def test_a_new_category_asks_for_a_full_reload(gpkg_store) -> None:  # noqa: ANN001
    _reviewed(gpkg_store, Status.APPROVED)
    token = gpkg_store.change_token()
    _reviewed(gpkg_store, Status.APPROVED, category="narkotika")
    assert gpkg_store.approved_changes(token, ["klotter"], ["polisen"]) is None


def test_a_transaction_that_commits_after_a_later_one_is_not_missed(pg_store) -> None:  # noqa: ANN001
    import psycopg2

    first = pg_store.submit(make_event(), actor="bo", today=TODAY)
    second = pg_store.submit(make_event(category="narkotika"), actor="bo", today=TODAY)
    slow = psycopg2.connect(**pg_store.info.libpq_params())
    try:
        with slow.cursor() as cursor:  # an approval that began before the read, committed after
            cursor.execute("SET est.actor = 'granskare.gun'")
            cursor.execute("UPDATE est.events SET status = 'approved', reviewer = 'granskare.gun', "
                           "reviewed_at = now() WHERE uuid = %s", (first.uuid,))
        token = pg_store.change_token()
        columns = pg_store.load_columns()
        assert first.fid not in columns.fid
        pg_store.review(second.uuid, second.version, "granskare.gun", Status.APPROVED, today=TODAY)
        slow.commit()  # its audit row has the smaller id, but a transaction the token still counts
    finally:
        slow.close()
    delta = pg_store.approved_changes(token, columns.category_codes, columns.organisation_codes)
    assert {first.fid, second.fid} <= set(delta.columns.fid.tolist())


def test_a_partner_login_gets_only_what_it_may_see_in_a_delta(pg_store) -> None:  # noqa: ANN001
    from gui_helpers import partner_login

    fid = _reviewed(pg_store, Status.APPROVED)
    with partner_login(pg_store, "vakt_v", "bevakning", Role.VIEWER) as viewer:
        token = viewer.change_token()
        columns = viewer.load_columns()
        assert fid in columns.fid
        rejected = _reviewed(pg_store, Status.REJECTED)
        approved = _reviewed(pg_store, Status.APPROVED, category="narkotika")
        delta = viewer.approved_changes(token, columns.category_codes, columns.organisation_codes)
        assert delta.columns.fid.tolist() == [approved]  # the rejected one never reaches a viewer
        assert rejected in delta.changed_fids
        rows = viewer.approved_events_by_fid([rejected])
        assert rows == []


def test_a_bulk_load_is_audited_row_by_row_and_the_logs_indexes_come_back(pg_store) -> None:
    """The owner's fast path (triggers and indexes rest during the COPY): still one audit row per
    event, each with its transaction for the change feed, and every index of the log rebuilt."""
    import psycopg2

    batch = demo_batch(25_000, end_date=TODAY - dt.timedelta(days=1), seed=4)
    assert pg_store.insert_batch(batch, today=TODAY) == 25_000
    connection = psycopg2.connect(**pg_store.info.libpq_params())
    try:
        with connection.cursor() as cursor:
            cursor.execute("""SELECT count(*), count(DISTINCT a.xact), bool_and(a.changes -> 'status' ->> 1 = e.status),
                                     bool_and(a.changes ? 'source' AND a.changes ? 'source_id')
                              FROM est.audit_log a JOIN est.events e ON e.uuid = a.subject_uuid
                              WHERE a.subject = 'event' AND a.action IN ('submit', 'import')""")
            rows, transactions, statuses_match, complete = cursor.fetchone()
            cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'est' AND tablename = 'audit_log' "
                           "ORDER BY indexname")
            indexes = [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()
    assert rows == 25_000 and transactions == 1 and statuses_match and complete
    assert {"audit_log_key", "audit_log_event_ids", "audit_log_event_xact"} <= set(indexes)
