"""The open EST database, who is using it, and signals that keep docks in step."""

from __future__ import annotations

from qgis.PyQt.QtCore import QObject, pyqtSignal

from ..core.errors import PermissionDenied
from ..core.i18n import tr
from ..core.model import Role
from ..core.settings import EstSettings
from ..core.store import EventStore, GeoPackageStore, PostgisStore

# What each role may do; the docks show only what the role allows.
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.REPORTER: frozenset({"report", "view_own"}),
    Role.REVIEWER: frozenset({"report", "view_own", "review", "compile", "meeting"}),
    Role.VIEWER: frozenset({"compile"}),
    Role.ADMIN: frozenset({"report", "view_own", "review", "compile", "meeting", "administer"}),
}


class EstSession(QObject):
    """Holds the store for the whole plugin; emits when it changes or its events do."""

    store_changed = pyqtSignal()
    events_changed = pyqtSignal()
    message = pyqtSignal(str, int)  # text, Qgis.MessageLevel value

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store: EventStore | None = None
        self.settings = EstSettings.load()
        self._role: Role | None = None
        self._user: str | None = None

    # ------------------------------------------------------------------ store
    def set_store(self, store: EventStore | None) -> None:
        if self.store is not None and self.store is not store:
            self.store.close()
        self.store = store
        self._role = None
        self._user = None
        self.store_changed.emit()

    def close(self) -> None:
        self.set_store(None)

    @property
    def is_postgis(self) -> bool:
        return isinstance(self.store, PostgisStore)

    # ------------------------------------------------------------------ who
    @property
    def user(self) -> str:
        if self._user is None:
            if isinstance(self.store, PostgisStore):
                self._user = str(self.store._query("SELECT current_user")[0][0])
            else:
                self._user = self.settings.effective_user()
        return self._user

    @property
    def role(self) -> Role:
        """PostGIS: from the login's database roles. GeoPackage: the local setting."""
        if self._role is None:
            if isinstance(self.store, PostgisStore):
                self._role = self.store.database_role() or Role.VIEWER
            else:
                try:
                    self._role = Role(self.settings.local_role)
                except ValueError:
                    self._role = Role.ADMIN
        return self._role

    def set_local_role(self, role: Role) -> None:
        """GeoPackage only: change the local role (not a security boundary)."""
        self.settings.local_role = role.value
        self.settings.save()
        self._role = None
        self.store_changed.emit()

    def may(self, permission: str) -> bool:
        return self.store is not None and permission in PERMISSIONS[self.role]

    def require(self, permission: str) -> None:
        if not self.may(permission):
            raise PermissionDenied("permission", role=tr(f"role.{self.role.value}"), action=tr(f"permission.{permission}"))

    def role_note(self) -> str:
        """What the status line says about the role, including that a local one is no boundary."""
        role = tr(f"role.{self.role.value}")
        if isinstance(self.store, GeoPackageStore):
            return tr("session.role_local", role=role)
        return tr("session.role_database", role=role)
