"""Shared-database benchmark: partner logins filing reports at once, reviewers racing, RLS on.

Run: ``.venv/bin/python -m bench.concurrency [--logins 20] [--reports 500]``. Starts a throw-away
PostgreSQL/PostGIS cluster on loopback, creates one reporter login per partner organisation slot
(real logins, real row-level security and triggers), then:

1. every login, each in its own process (a client of its own), files its reports at the same time
   through the plugin's store (validate, INSERT
   with the database setting reporter/organisation/timestamps, audit trigger) — counts lost and
   duplicated reports and prints p50/p99 latency;
2. the same work through QGIS's own path in the same run (a postgres-provider layer on
   ``est.events``, ``addFeatures`` one report at a time, as the same kind of login), as a ratio;
3. two reviewers race to decide the same 100 reports: exactly one must win each.

Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import multiprocessing
import os
import queue
import resource
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

TODAY = dt.date(2026, 11, 23)
ORGANISATIONS = ("polisen", "bevakning", "bostad_kommunal", "fastighet_privat", "kollektivtrafik", "sbf",
                 "skol_fritid", "social", "kultur", "raddning")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def report_event(organisation: str, index: int):  # noqa: ANN201
    from est_weekly_plugin.domain.model import Event

    return Event(category="klotter", organisation=organisation, event_date=TODAY - dt.timedelta(days=index % 20),
                 x=356000.0 + (index * 37) % 3000, y=6212000.0 + (index * 53) % 3000, time_from=dt.time(22, 0),
                 description=f"Bänk {index}: nya taggar", place_name="Söder")


def file_reports(info, login: str, password: str, organisation: str, count: int, start, results) -> None:
    """One partner's client: its own process and connection, like a QGIS on another computer."""
    from est_weekly_plugin.store import PostgisStore

    latencies: list[float] = []
    filed: list[str] = []
    errors: list[str] = []
    store = PostgisStore.open(dataclasses.replace(info, user=login, password=password))
    try:
        start.wait()
        for index in range(count):
            began = time.perf_counter()
            try:
                saved = store.submit(report_event(organisation, index), actor=login, today=TODAY)
            except Exception as error:  # noqa: BLE001 - counted as lost, reported below
                errors.append(f"{login}: {error}")
                continue
            latencies.append(time.perf_counter() - began)
            filed.append(saved.uuid)
    finally:
        store.close()
        results.put((latencies, filed, errors))


def qgis_reports(info, login: str, password: str, organisation: str, count: int) -> list[float]:
    """QGIS's own path for the same work: the postgres provider adding one feature per report."""
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    store_info = dataclasses.replace(info, user=login, password=password)
    uri = store_info.qgis_uri("events").replace("password=''", "")
    uri += f" user='{login}' password='{password}'"
    layer = QgsVectorLayer(uri, "events", "postgres")
    if not layer.isValid():
        raise RuntimeError("QGIS could not open est.events as the reporter login")
    provider = layer.dataProvider()
    fields = layer.fields()
    latencies = []
    for index in range(count):
        event = report_event(organisation, index)
        feature = QgsFeature(fields)
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(event.x, event.y)))
        for name, value in (("uuid", str(uuid.uuid4())), ("category", event.category),
                            ("organisation", organisation), ("event_date", event.event_date.isoformat()),
                            ("time_from", "22:00"), ("description", event.description), ("place_name", "Söder")):
            feature[name] = value
        began = time.perf_counter()
        ok, _ = provider.addFeatures([feature])
        if not ok:
            raise RuntimeError(f"QGIS refused a report: {provider.lastError()}")
        latencies.append(time.perf_counter() - began)
    return latencies


def race(info, reviewers: list[tuple[str, str]], reports: list[str]) -> tuple[int, int, int]:
    """Two reviewers decide the same reports at the same moment; returns (one winner, both, none)."""
    from est_weekly_plugin.domain.errors import EstError
    from est_weekly_plugin.domain.model import Status
    from est_weekly_plugin.store import PostgisStore

    stores = [PostgisStore.open(dataclasses.replace(info, user=u, password=p)) for u, p in reviewers]
    outcome = {"one": 0, "both": 0, "none": 0}
    try:
        for event_uuid in reports:
            versions = [store.get(event_uuid).version for store in stores]
            barrier = threading.Barrier(2)
            wins: list[bool] = [False, False]

            def decide(i: int, event_uuid: str = event_uuid, versions: list[int] = versions,
                       barrier: threading.Barrier = barrier, wins: list[bool] = wins) -> None:
                barrier.wait()
                decision = Status.APPROVED if i == 0 else Status.REJECTED
                try:
                    stores[i].review(event_uuid, versions[i], reviewers[i][0], decision, reason="Race", today=TODAY)
                    wins[i] = True
                except EstError:
                    pass

            threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            outcome["one" if sum(wins) == 1 else "both" if sum(wins) == 2 else "none"] += 1
    finally:
        for store in stores:
            store.close()
    return outcome["one"], outcome["both"], outcome["none"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=20)
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--race", type=int, default=100)
    parser.add_argument("--qgis-reports", type=int, default=300)
    args = parser.parse_args()

    import pgcluster
    from qgis.core import QgsApplication

    from est_weekly_plugin.domain.model import Role
    from est_weekly_plugin.store import PostgisStore

    app = QgsApplication([], False)
    app.initQgis()
    cluster = pgcluster.start()
    try:
        info = pgcluster.connection_info(cluster, "est_bench", fresh=True)
        owner = PostgisStore.create(info)
        logins = []
        for i in range(args.logins):
            organisation = ORGANISATIONS[i % len(ORGANISATIONS)]
            name = f"rapportor{i:02d}"
            logins.append((name, owner.create_login(name, organisation, Role.REPORTER), organisation))
        reviewers = [(f"granskare{i}", owner.create_login(f"granskare{i}", "slf_trygghet", Role.REVIEWER))
                     for i in range(2)]

        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(len(logins) + 1)
        results = context.Queue()
        workers = [context.Process(target=file_reports, args=(info, name, password, organisation, args.reports,
                                                              barrier, results))
                   for name, password, organisation in logins]
        for worker in workers:
            worker.start()
        barrier.wait()  # every client connected: go
        began = time.perf_counter()
        latencies, filed, errors = [], [], []
        for _ in workers:
            worker_latencies, worker_filed, worker_errors = results.get()
            latencies += worker_latencies
            filed += worker_filed
            errors += worker_errors
        elapsed = time.perf_counter() - began
        for worker in workers:
            worker.join()
        expected = args.logins * args.reports
        stored = owner._query("SELECT count(*), count(DISTINCT uuid) FROM est.events")[0]
        audited = owner._query("SELECT count(*) FROM est.audit_log WHERE subject = 'event' AND action = 'submit'")[0][0]
        wrong_owner = owner._query("SELECT count(*) FROM est.events e JOIN est.memberships m ON m.login = e.reporter "
                                   "WHERE m.organisation <> e.organisation")[0][0]
        print(f"concurrent reporting: {args.logins} reporter logins × {args.reports} reports, row-level security on")
        print(f"  filed {len(filed)} / {expected}; stored {stored[0]} ({stored[1]} distinct); "
              f"lost {expected - stored[0]}; duplicated {stored[0] - stored[1]}; audit rows {audited}; "
              f"filed for a foreign organisation {wrong_owner}; errors {len(errors)}")
        for line in errors[:5]:
            print("   ", line)
        print(f"  latency per report (validate + INSERT + triggers + read back): p50 {1000 * percentile(latencies, .5):.1f} ms, "
              f"p99 {1000 * percentile(latencies, .99):.1f} ms, max {1000 * max(latencies):.1f} ms; "
              f"throughput {len(filed) / elapsed:.0f} reports/s over {elapsed:.1f} s")

        name, password, organisation = logins[0]
        qgis = qgis_reports(info, name, password, organisation, args.qgis_reports)
        alone = queue.SimpleQueue()
        file_reports(info, name, password, organisation, args.qgis_reports, threading.Barrier(1), alone)
        ours_alone = alone.get()[0]
        print(f"  QGIS's postgres provider, same login, one report at a time ({args.qgis_reports}): "
              f"p50 {1000 * statistics.median(qgis):.1f} ms vs ours alone p50 {1000 * statistics.median(ours_alone):.1f} ms "
              f"→ ratio {statistics.median(qgis) / statistics.median(ours_alone):.2f}× (ours validates and reads back)")

        pending = [row[0] for row in owner._query(
            "SELECT uuid::text FROM est.events WHERE status = 'submitted' ORDER BY fid LIMIT ?", (args.race,))]
        one, both, none = race(info, reviewers, pending)
        decided = owner._query("SELECT count(*) FROM est.audit_log WHERE action IN ('approve', 'reject') "
                               "AND subject_key = ANY(?)", (pending,))[0][0]
        print(f"two reviewers racing on {len(pending)} reports: exactly one won {one}, both {both}, none {none}; "
              f"decision audit rows {decided}")
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        owner.close()
    finally:
        cluster.stop()
        app.exitQgis()


if __name__ == "__main__":
    main()
