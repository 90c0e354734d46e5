"""Privacy by design: personal data flagged before it is stored, redaction that reaches the
history, retention and pseudonymisation that leave the statistics unchanged, access requests,
recorded exports — on both backends."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from conftest import TODAY, make_event

from est_weekly_plugin.domain import privacy
from est_weekly_plugin.domain.model import Status

# The seven samples a new user tried: each must raise a warning before it is stored.
SAMPLES = {
    "personnummer": ["Mannen hade personnummer 19800101-1234 enligt vakten", "id 198001011234 i loggen"],
    "phone": ["Ring 070-123 45 67 om det händer igen", "Ring +46 70 123 45 67"],
    "email": ["Kontakt: anna.andersson@example.se"],
    "registration": ["Bilen ABC 123 stod parkerad hela natten"],
    "name": ["Anna Andersson var där igen"],
}
CLEAN = ["Samling vid Gustav Adolfs torg kl 22, ca 15 ungdomar", "Klotter på Stortorget 2026-11-20",
         "Karl Johans gata: krossad ruta, buss 301", "Polisen Helsingborg patrullerade", "Dalhems skatepark",
         "EST vecka 48: 12 taggar, 3 elskåp", "Nedskräpning vid Knutpunkten"]


@pytest.mark.parametrize(("kind", "text"), [(k, t) for k, texts in SAMPLES.items() for t in texts])
def test_each_sample_is_found(kind, text):
    assert kind in privacy.flags(text).split(",")


@pytest.mark.parametrize("text", CLEAN)
def test_places_and_numbers_are_not_people(text):
    assert privacy.flags(text) == ""


def test_identity_numbers_need_a_real_date_and_bare_ones_the_check_digit():
    assert privacy.flags("8112189876") == "personnummer"  # valid check digit
    assert privacy.flags("8112189875") == ""  # a ten-digit order number
    assert privacy.flags("811218-9875") == "personnummer"  # written as an identity number: flagged
    assert privacy.flags("19811318-9876") == ""  # month 13 is no date
    assert privacy.flags("811278-9876") == "personnummer"  # coordination number (day + 60)


def test_scanning_many_texts_agrees_with_one_at_a_time():
    texts = [t for texts in SAMPLES.values() for t in texts] + CLEAN + ["", "Anna Andersson\nring 070-1234567"]
    assert privacy.scan_texts(texts) == [privacy.flags(t) for t in texts]


def test_a_flagged_report_is_stored_with_its_flags_on_both_backends(store):
    for kind, texts in SAMPLES.items():
        for text in texts:
            saved = store.submit(make_event(description=text), actor="anna", today=TODAY)
            assert kind in store.get(saved.uuid).personal_data.split(",")
    clean = store.submit(make_event(description=CLEAN[0]), actor="anna", today=TODAY)
    assert store.get(clean.uuid).personal_data == ""


def test_redaction_reaches_the_audit_log(store):
    secret = "19800101-1234"
    saved = store.submit(make_event(description=f"Mannen med personnummer {secret} sprayade"), actor="anna",
                         today=TODAY)
    edited = store.update_event(saved.uuid, saved.version, "anna", description=f"Igen: {secret}, samma man",
                                today=TODAY)
    redacted = store.redact(edited.uuid, edited.version, "granskare", part=secret)
    assert secret not in redacted.description and "[uppgift borttagen]" in redacted.description
    assert redacted.personal_data == ""
    history = store.audit_log(saved.uuid)
    assert secret not in json.dumps([e.changes for e in history], ensure_ascii=False)
    assert all(secret not in (e.reason or "") for e in history)
    last = history[-1]
    assert (last.action, last.actor) == ("redact", "granskare")
    assert last.changes["entries_redacted"] >= 2
    # redacting the whole text
    whole = store.redact(redacted.uuid, redacted.version, "granskare")
    assert whole.description == "[uppgift borttagen]"


def test_the_audit_log_changes_only_through_a_redaction(store):
    from est_weekly_plugin.domain.errors import EstError

    store.submit(make_event(), actor="anna", today=TODAY)
    with pytest.raises(EstError) as caught, store.transaction() as cursor:
        cursor.execute(store._sql(f"UPDATE {store._table('audit_log')} SET actor = 'x'"))
    assert caught.value.code == "db_audit_append_only"


def test_pseudonymising_keeps_the_compilation_numbers(store):
    from est_weekly_plugin.analysis.compilation import CompilationEngine
    from est_weekly_plugin.analysis.filters import CompilationFilter

    old_day = TODAY - dt.timedelta(days=800)
    recent_day = TODAY - dt.timedelta(days=10)
    kept = []
    for index in range(12):
        day = old_day if index % 2 else recent_day
        saved = store.submit(make_event(event_date=day, description=f"Anna Andersson nr {index}",
                                        x=356500.0 + 30 * index), actor="anna.andersson", today=TODAY)
        if index % 3 != 2:
            store.review(saved.uuid, saved.version, "granskare", Status.APPROVED, today=TODAY)
        kept.append(saved.uuid)
    before = store.load_columns()
    filters = [CompilationFilter(), CompilationFilter(categories=["klotter"]), CompilationFilter(weekdays=[4])]
    counts_before = [CompilationEngine(before).compute(f).count for f in filters]

    done = store.pseudonymise(today=TODAY, actor="admin")
    assert done == 6
    after = store.load_columns()
    assert np.array_equal(np.sort(before.fid), np.sort(after.fid))
    assert np.array_equal(before.x[np.argsort(before.fid)], after.x[np.argsort(after.fid)])
    assert [CompilationEngine(after).compute(f).count for f in filters] == counts_before
    for uuid in kept:
        event = store.get(uuid)
        old = event.event_date == old_day
        assert (event.reporter == "") == old and (event.description == "") == old
        history = json.dumps([e.changes for e in store.audit_log(uuid)], ensure_ascii=False)
        assert ("Anna Andersson" in history) != old
        assert ("anna.andersson" in {e.actor for e in store.audit_log(uuid)}) != old
    assert store.audit_log(subject="retention")[-1].action == "pseudonymise"
    assert store.pseudonymise(today=TODAY, actor="admin") == 0  # nothing left to do


def test_retention_per_category(store):
    store.set_retention_months(24, {"klotter": 6})
    assert store.retention_months() == {"*": 24, "klotter": 6}
    mid = store.submit(make_event(event_date=TODAY - dt.timedelta(days=300)), actor="anna", today=TODAY)
    other = store.submit(make_event(event_date=TODAY - dt.timedelta(days=300), category="nedskrapning"),
                         actor="anna", today=TODAY)
    assert store.pseudonymise(today=TODAY) == 1
    assert store.get(mid.uuid).reporter == "" and store.get(other.uuid).reporter == "anna.andersson"


def test_subject_access_export_has_everything_linked_to_a_login(store):
    filed = store.submit(make_event(reporter="lena.vakt"), actor="lena.vakt", today=TODAY)
    other = store.submit(make_event(), actor="anna", today=TODAY)
    store.review(other.uuid, other.version, "lena.vakt", Status.APPROVED, today=TODAY)
    export = store.subject_access("lena.vakt")
    assert [r["uuid"] for r in export["reports_filed"]] == [filed.uuid]
    assert [r["uuid"] for r in export["reviews_made"]] == [other.uuid]
    assert {e["action"] for e in export["audit_entries"]} >= {"submit", "approve"}
    json.dumps(export, ensure_ascii=False)  # machine-readable as it is


def test_exports_are_recorded(store):
    store.record_export("anna", "events.csv", "Klotter, vecka 47", 12)
    entry = store.audit_log(subject="export")[-1]
    assert (entry.action, entry.changes["rows"], entry.changes["filter"]) == ("export", 12, "Klotter, vecka 47")
