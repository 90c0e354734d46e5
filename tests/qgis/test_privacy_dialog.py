"""*Privacy and retention…* driven like an administrator would."""

from __future__ import annotations

import datetime as dt
import json

from conftest import TODAY, make_event

from est_weekly_plugin.gui.shared.privacy_dialog import PrivacyDialog


def test_administrator_sets_retention_pseudonymises_and_answers_an_access_request(store, qgis_iface, tmp_path,
                                                                                  output_dir):
    old = store.submit(make_event(event_date=TODAY - dt.timedelta(days=400), description="Anna Andersson igen",
                                  reporter="lena.vakt"), actor="lena.vakt", today=TODAY)
    recent = store.submit(make_event(event_date=TODAY - dt.timedelta(days=20), reporter="lena.vakt"),
                          actor="lena.vakt", today=TODAY)
    dialog = PrivacyDialog(store, "admin")
    dialog.confirm = lambda text: "cannot be undone" in text
    dialog.show()
    try:
        assert dialog.months.value() == 24 and dialog.suppress.value() == 3
        dialog.months.setValue(12)
        dialog._spins["nedskrapning"].setValue(36)
        dialog.suppress.setValue(5)
        assert dialog.save() and dialog.message.text() == "Saved."
        assert store.retention_months() == {"*": 12, "nedskrapning": 36} and store.suppress_below() == 5
        # the access request first: everything linked to one login, as JSON
        assert dialog.subject_access("lena.vakt", tmp_path / "lena.json")
        data = json.loads((tmp_path / "lena.json").read_text(encoding="utf-8"))
        assert {r["uuid"] for r in data["reports_filed"]} == {old.uuid, recent.uuid}
        assert store.audit_log(subject="export")[-1].subject_uuid == "subject access: lena.vakt"
        # then the retention rule, now
        assert dialog.pseudonymise() == 1
        assert dialog.message.text() == "1 event pseudonymised."  # one, not "1 events"
        assert store.get(old.uuid).reporter == "" and store.get(recent.uuid).reporter == "lena.vakt"
        dialog.grab().save(str(output_dir / "privacy_dialog_en.png"))
    finally:
        dialog.close()
        dialog.deleteLater()
