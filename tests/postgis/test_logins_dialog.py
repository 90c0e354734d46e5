"""*Manage logins…* driven like an administrator would, checked by logging in with what it showed."""

from __future__ import annotations

import dataclasses
import uuid

import psycopg2
import pytest
from gui_helpers import click, make_session, type_into
from qgis.PyQt.QtGui import QColor, QImage

from est_weekly_plugin.domain import i18n
from est_weekly_plugin.domain.model import Role
from est_weekly_plugin.gui.shared.logins_dialog import LoginsDialog, NewLoginDialog
from est_weekly_plugin.store import PostgisStore

pytestmark = pytest.mark.postgis


@pytest.fixture
def admin_store(pg_store):
    """The plugin's store logged in as a real EST administrator (not the schema owner)."""
    name = "adm_" + uuid.uuid4().hex[:6]
    password = pg_store.create_login(name, "slf_trygghet", Role.ADMIN, "Alva Admin")
    store = PostgisStore.open(dataclasses.replace(pg_store.info, user=name, password=password))
    yield store
    store.close()
    cleanup = psycopg2.connect(**pg_store.info.libpq_params())
    cleanup.autocommit = True
    with cleanup.cursor() as cursor:
        cursor.execute("SELECT login FROM est.memberships")
        for (login,) in cursor.fetchall():
            cursor.execute(f'DROP OWNED BY "{login}"')
            cursor.execute(f'DROP ROLE "{login}"')
    cleanup.close()


def can_log_in(store: PostgisStore, login: str, password: str) -> bool:
    try:
        psycopg2.connect(**{**store.info.libpq_params(), "user": login, "password": password}).close()
    except psycopg2.OperationalError:
        return False
    return True


def test_administrator_creates_resets_reroles_and_disables_a_login(admin_store, qgis_iface, output_dir):
    session = make_session(admin_store, role=Role.VIEWER)  # the local setting means nothing on PostGIS
    assert session.role == Role.ADMIN and session.login.organisation == "slf_trygghet"
    # separation of duties on a shared database: the administrator manages, reviewers decide
    assert session.may("administer") and not session.may("review") and not session.may("report")
    dialog = LoginsDialog(admin_store)
    shown: list[tuple[str, str]] = []
    dialog.show_password = lambda login, password: shown.append((login, password))
    dialog.show()
    try:
        form = NewLoginDialog(admin_store, dialog)
        type_into(form.login, "anna.polisen")
        type_into(form.display_name, "Anna Polis")
        form.organisation.set_code("polisen")
        form.role.setCurrentIndex(form.role.findData("reporter"))
        assert dialog.create_from(form)
        (login, password), = shown
        assert login == "anna.polisen" and len(password) >= 12
        assert dialog.message.text() == "Login anna.polisen created."
        rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 2).text() for r in range(dialog.table.rowCount())}
        assert rows["anna.polisen"] == "Police – Helsingborg local police area"
        assert can_log_in(admin_store, "anna.polisen", password)
        # the password is nowhere in the database's own tables (only PostgreSQL's hashed one)
        assert not admin_store._query("SELECT count(*) FROM est.audit_log WHERE changes::text LIKE ?",
                                      (f"%{password}%",))[0][0]

        dialog.select_login("anna.polisen")
        click(dialog.reset_button)
        new_password = shown[-1][1]
        assert new_password != password
        assert not can_log_in(admin_store, "anna.polisen", password)
        assert can_log_in(admin_store, "anna.polisen", new_password)

        dialog.select_login("anna.polisen")
        dialog.role.setCurrentIndex(dialog.role.findData("viewer"))
        click(dialog.role_button)
        assert dialog.message.text() == "anna.polisen is now Viewer."
        as_viewer = PostgisStore.open(dataclasses.replace(admin_store.info, user="anna.polisen", password=new_password))
        assert as_viewer.whoami().role == Role.VIEWER
        as_viewer.close()

        dialog.select_login("anna.polisen")
        click(dialog.active_button)
        assert "disabled" in dialog.message.text()
        assert not can_log_in(admin_store, "anna.polisen", new_password)

        # refusals come back from the database in the user's language
        own = admin_store.whoami().login
        dialog.select_login(own)
        click(dialog.active_button)
        assert dialog.message.text().startswith("You cannot take away your own administrator role")
        i18n.set_language("sv")
        bad = NewLoginDialog(admin_store, dialog)
        type_into(bad.login, "Robert'); DROP ROLE--")
        assert not dialog.create_from(bad)
        assert "Inloggningsnamnet" in dialog.message.text() and "inte giltigt" in dialog.message.text()
        i18n.set_language("en")
        audited = admin_store.audit_log("anna.polisen", subject="membership")
        assert [e.action for e in audited] == ["create", "edit", "edit", "edit"]
        assert set(audited[1].changes) == {"password_set_at"}  # that it was reset, never what to
        assert audited[2].changes["role"] == ["reporter", "viewer"] and audited[3].changes["active"] == [True, False]

        dialog.resize(720, 460)
        image = dialog.grab().toImage()
        image.save(str(output_dir / "logins_dialog_en.png"))
        assert image.width() >= 700 and _distinct_colours(image) > 20
    finally:
        dialog.close()
        dialog.deleteLater()


def test_a_reporter_gets_the_databases_refusal(pg_store):
    password = pg_store.create_login("rep_" + uuid.uuid4().hex[:6], "polisen", Role.REPORTER)
    login = pg_store.logins()[-1].login
    store = PostgisStore.open(dataclasses.replace(pg_store.info, user=login, password=password))
    try:
        assert [x.login for x in store.logins()] == [login]  # sees only itself
        from est_weekly_plugin.domain.errors import PermissionDenied

        with pytest.raises(PermissionDenied) as caught:
            store.create_login("ny.login", "polisen", Role.ADMIN)
        assert "refused" in caught.value.message("en")
    finally:
        store.close()
        with pg_store.transaction() as cursor:
            cursor.execute(f'DROP OWNED BY "{login}"')
            cursor.execute(f'DROP ROLE "{login}"')


def _distinct_colours(image: QImage) -> int:
    seen = set()
    for y in range(0, image.height(), 7):
        for x in range(0, image.width(), 7):
            seen.add(QColor(image.pixel(x, y)).name())
    return len(seen)
