"""The open EST database, who is using it, and signals that keep docks in step."""

from __future__ import annotations

from collections.abc import Callable

from qgis.PyQt.QtCore import QObject, pyqtSignal

from ...domain.errors import PermissionDenied
from ...domain.i18n import tr
from ...domain.model import Login, Role
from ...domain.roles import allowed
from ...domain.settings import EstSettings
from ...store import EventStore, GeoPackageStore, PostgisStore
from .turns import in_next_turn


class EstSession(QObject):
    """Holds the store for the whole plugin; emits when it changes or its events do."""

    store_changed = pyqtSignal()
    events_changed = pyqtSignal()
    message = pyqtSignal(str, int)  # text, Qgis.MessageLevel value

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store: EventStore | None = None
        self.settings = EstSettings.load()
        self._login: Login | None = None
        self._turns: list[Callable[[], None]] = []

    def run_in_turn(self, callback: Callable[[], None]) -> None:
        """Run *callback* in a turn of the event loop of its own, after those queued before it.

        Why: when a database opens, every open dock reads it; one after the other in one turn
        they would freeze QGIS for the sum of their reads. In turns of their own, QGIS repaints
        and reacts between them, and the longest freeze is the longest single read.
        """
        self._turns.append(callback)
        if len(self._turns) == 1:
            in_next_turn(self._next_turn)

    def _next_turn(self) -> None:
        if not self._turns:
            return
        callback = self._turns[0]
        try:
            callback()
        finally:
            self._turns.pop(0)
            if self._turns:
                in_next_turn(self._next_turn)

    # ------------------------------------------------------------------ store
    def set_store(self, store: EventStore | None) -> None:
        if self.store is not None and self.store is not store:
            self.store.close()
        self.store = store
        self._login = None
        self.store_changed.emit()

    def close(self) -> None:
        self.set_store(None)

    @property
    def is_postgis(self) -> bool:
        return isinstance(self.store, PostgisStore)

    # ------------------------------------------------------------------ who
    @property
    def login(self) -> Login:
        """Login, organisation and role: from the database on PostGIS, local settings on a GeoPackage."""
        if self._login is None:
            if isinstance(self.store, PostgisStore):
                self._login = self.store.whoami()
            else:
                try:
                    role = Role(self.settings.local_role)
                except ValueError:
                    role = Role.ADMIN
                self._login = Login(self.settings.effective_user(), self.settings.organisation or None, role, False)
        return self._login

    @property
    def user(self) -> str:
        return self.login.login

    @property
    def role(self) -> Role:
        """PostGIS: the login's membership. GeoPackage: the local setting (not a security boundary)."""
        return self.login.role or Role.VIEWER

    def set_local_role(self, role: Role) -> None:
        """GeoPackage only: change the local role (not a security boundary)."""
        self.settings.local_role = role.value
        self.settings.save()
        self._login = None
        self.store_changed.emit()

    def may(self, permission: str) -> bool:
        if self.store is None:
            return False
        return allowed(self.login, self.role, permission)

    def require(self, permission: str) -> None:
        if not self.may(permission):
            raise PermissionDenied("permission", role=tr(f"role.{self.role.value}"), action=tr(f"permission.{permission}"))

    def role_note(self) -> str:
        """Who you are — login, organisation, role — and whether the database enforces the role."""
        role = tr(f"role.{self.role.value}")
        organisation = (tr("session.schema_owner") if self.login.maintainer
                        else self._organisation_name(self.login.organisation))
        if isinstance(self.store, GeoPackageStore):
            return tr("session.role_local", role=role, login=self.user, organisation=organisation)
        return tr("session.role_database", role=role, login=self.user, organisation=organisation)

    def _organisation_name(self, code: str | None) -> str:
        if not code or self.store is None:
            return tr("session.no_organisation")
        names = {o.code: o.name() for o in self.store.organisations()}
        return names.get(code, code)
