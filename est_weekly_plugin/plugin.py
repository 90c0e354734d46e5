"""The QGIS plugin: menu and toolbar, the open EST database, and the docks that use it.

Kept thin: every action delegates to a dock or to ``core``; the docks are created on first
use so a QGIS start stays fast.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsProject
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QFileDialog

from .domain import log as est_log
from .domain.errors import EstError
from .domain.i18n import tr
from .domain.paths import resource
from .domain.settings import project_source, remember_project_source
from .gui.shared.session import EstSession
from .maps.background import ROLE as BACKGROUND_ROLE
from .maps.background import Background
from .maps.layers import events_layer, find_layers
from .store import GeoPackageStore, PgConnectionInfo, PostgisStore

LOG_TAG = "EST Weekly"

# Docks: key → (module, class, dock area, icon, permission needed). Imported on first use.
DOCKS: dict[str, tuple[str, str, Qt.DockWidgetArea, str, str]] = {
    "reporting": (".gui.reporting.reporting_dock", "ReportingDock", Qt.DockWidgetArea.RightDockWidgetArea, "report.svg",
                  "report"),
    "review": (".gui.review.review_panel", "ReviewPanel", Qt.DockWidgetArea.RightDockWidgetArea, "review.svg", "review"),
    "compilation": (".gui.compilation.compilation_dock", "CompilationDock", Qt.DockWidgetArea.LeftDockWidgetArea,
                    "compilation.svg", "compile"),
    "meeting": (".gui.meeting.meeting_panel", "MeetingPanel", Qt.DockWidgetArea.RightDockWidgetArea, "meeting.svg", "meeting"),
}


class EstWeeklyPlugin:
    def __init__(self, iface: Any) -> None:
        self.iface = iface
        self.session = EstSession()
        self.actions: list[QAction] = []
        self.dock_actions: dict[str, QAction] = {}
        self.docks: dict[str, Any] = {}
        self.locator: Any = None  # the Ctrl+K filter
        self.toolbar = None
        self.import_action: QAction | None = None
        self.logins_action: QAction | None = None
        self.privacy_action: QAction | None = None
        self.background_action: QAction | None = None
        self.tasks: list[Any] = []  # running QgsTasks must stay referenced
        self.provider = None
        self.menu = tr("plugin.menu")

    # ------------------------------------------------------------------ QGIS entry points
    def initProcessing(self) -> None:  # noqa: N802 - QGIS's name; qgis_process calls only this
        """Register the "EST Weekly" Processing provider (modeler, toolbox, qgis_process)."""
        if self.provider is None:
            from .processing.provider import EstProcessingProvider

            provider = EstProcessingProvider()
            # QGIS refuses (and deletes) a second provider with the same id, e.g. another plugin
            # instance's: keep a reference only to one the registry took
            if QgsApplication.processingRegistry().addProvider(provider):
                self.provider = provider

    def initGui(self) -> None:  # noqa: N802 - QGIS's name
        est_log.install()  # the plugin's Python log reaches QGIS's Log Messages panel, tab "EST Weekly"
        self.initProcessing()
        self.toolbar = self.iface.addToolBar(tr("plugin.toolbar"))
        self.toolbar.setObjectName("EstWeeklyToolbar")
        self._add_action("new_database", "new_database.svg", self.new_database)
        self._add_action("open_database", "open_database.svg", self.open_database)
        self._add_action("connect_postgis", "postgis.svg", self.connect_postgis)
        self.import_action = self._add_action("import_events", "import.svg", self.import_events)
        self.logins_action = self._add_action("manage_logins", "logins.svg", self.manage_logins)
        self.privacy_action = self._add_action("privacy", "privacy.svg", self.privacy_settings)
        self.background_action = self._add_action("background", "background.svg", self.background_settings)
        self._add_action("places", "places.svg", self.place_settings)
        for key, (_module, _cls, _area, icon, _permission) in DOCKS.items():
            action = self._add_action(f"dock_{key}", icon, lambda checked=False, k=key: self.toggle_dock(k))
            action.setCheckable(True)
            self.dock_actions[key] = action
        from .gui.shared.locator import EstLocatorFilter

        register = getattr(self.iface, "registerLocatorFilter", None)  # absent on headless test interfaces
        if callable(register):
            self.locator = EstLocatorFilter(self.session, self.iface.mapCanvas(), self._current_hotspots)
            register(self.locator)
        self.session.store_changed.connect(self._on_store_changed)
        self.session.message.connect(self._show_message)
        QgsProject.instance().readProject.connect(self._restore_from_project)
        self._on_store_changed()

    def unload(self) -> None:
        try:
            QgsProject.instance().readProject.disconnect(self._restore_from_project)
        except TypeError:
            pass
        if self.locator is not None:
            self.iface.deregisterLocatorFilter(self.locator)
            self.locator = None
        for dock in self.docks.values():
            self.iface.removeDockWidget(dock)
            dock.deleteLater()
        self.docks.clear()
        for action in self.actions:
            self.iface.removePluginMenu(self.menu, action)
            self.iface.removeToolBarIcon(action)
            action.deleteLater()
        self.actions.clear()
        if self.toolbar is not None:
            self.toolbar.deleteLater()
            self.toolbar = None
        self.session.close()
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        est_log.uninstall()

    # ------------------------------------------------------------------ actions
    def _add_action(self, key: str, icon: str, callback: Any) -> QAction:
        action = QAction(QIcon(str(resource("icons", icon))), tr(f"action.{key}"), self.iface.mainWindow())
        action.setObjectName(f"est_weekly_{key}")
        action.setToolTip(tr(f"action.{key}.tip"))
        action.triggered.connect(callback)
        self.iface.addPluginToMenu(self.menu, action)
        self.toolbar.addAction(action)
        self.actions.append(action)
        return action

    def new_database(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.iface.mainWindow(), tr("dialog.new_database"),
                                              self.session.settings.last_geopackage or str(Path.home() / "est.gpkg"),
                                              "GeoPackage (*.gpkg)")
        if not path:
            return
        if not path.lower().endswith(".gpkg"):
            path += ".gpkg"
        self._use(lambda: GeoPackageStore.create(path))

    def open_database(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.iface.mainWindow(), tr("dialog.open_database"),
                                              self.session.settings.last_geopackage, "GeoPackage (*.gpkg)")
        if path:
            self._use(lambda: GeoPackageStore.open(path))

    def connect_postgis(self) -> None:
        from .gui.shared.connect_dialog import ConnectPostgisDialog

        dialog = ConnectPostgisDialog(self.session.settings, self.iface.mainWindow())
        if dialog.exec():
            info, create = dialog.connection_info(), dialog.create_schema()
            self._use(lambda: PostgisStore.create(info) if create else PostgisStore.open(info))

    def privacy_settings(self) -> None:
        """Administrators: retention, pseudonymisation, small-count suppression, access requests."""
        from .gui.shared.privacy_dialog import PrivacyDialog

        if self.session.store is None:
            return
        try:
            PrivacyDialog(self.session.store, self.session.user, self.iface.mainWindow()).exec()
        except EstError as error:
            self._show_message(error.message(), Qgis.Critical)

    def _current_hotspots(self) -> list[Any]:
        """The hot-spot areas the compilation dock shows now (for the locator)."""
        dock = self.docks.get("compilation")
        result = getattr(dock, "result", None)
        return list(result.hotspots.hotspots) if result is not None and result.hotspots is not None else []

    def place_settings(self) -> None:
        """Which address points and named places the report form's place field searches."""
        from .gui.shared.places_dialog import PlacesDialog

        PlacesDialog(self.session.settings, self.iface.mainWindow()).exec()

    def background_settings(self) -> None:
        """Administrators: the background map of the canvas and of every meeting PDF."""
        from .gui.meeting.background_dialog import BackgroundDialog

        if self.session.store is None:
            return
        if BackgroundDialog(self.session.store, self.session.user, self.iface.mainWindow()).exec():
            self._ensure_background_layer()

    def manage_logins(self) -> None:
        """Administrators: the partner logins of the shared PostGIS database."""
        from .gui.shared.logins_dialog import LoginsDialog

        if not isinstance(self.session.store, PostgisStore):
            self._show_message(tr("logins.postgis_only"), Qgis.Info)
            return
        try:
            LoginsDialog(self.session.store, self.iface.mainWindow()).exec()
        except EstError as error:
            self._show_message(error.message(), Qgis.Critical)

    def import_events(self) -> None:
        """The import wizard: a file or layer, mapped and previewed, imported as a task (progress, cancel)."""
        from .gui.importing.import_wizard import ImportWizard

        if self.session.store is None:
            return
        self.import_wizard = ImportWizard(self.session, self.iface.mainWindow())
        self.import_wizard.show()

    def _use(self, opener: Any) -> bool:
        """Open a store and make it the session's; errors reach the user in their language."""
        try:
            store = opener()
        except EstError as error:
            # The message bar, not a modal box: a project restored at start-up must not block QGIS.
            self._show_message(error.message(), Qgis.Critical)
            return False
        self.session.set_store(store)
        settings = self.session.settings
        if isinstance(store, GeoPackageStore):
            settings.last_geopackage = str(store.path)
            if store.on_network_share:
                self._show_message(tr("warning.network_share"), Qgis.Warning)
            remember_project_source("gpkg", str(store.path))
        else:
            settings.last_postgis_connection = store.info.connection_name
            settings.last_postgis_authcfg = store.info.authcfg
            remember_project_source("postgis", store.info.connection_name)
        settings.save()
        self._ensure_events_layer()
        return True

    def open_source(self, source: str) -> bool:
        """Open what a project remembers: ``gpkg:<path>`` or ``postgis:<saved connection>``."""
        kind, _, value = source.partition(":")
        if kind == "gpkg":
            return self._use(lambda: GeoPackageStore.open(value))
        if kind == "postgis":
            return self._use(lambda: PostgisStore.open(PgConnectionInfo.from_qgis_connection(value)))
        return False

    def _restore_from_project(self, *_args: object) -> None:
        kind, value = project_source()
        if kind:
            self.open_source(f"{kind}:{value}")

    def _ensure_events_layer(self) -> None:
        project = QgsProject.instance()
        for layer in find_layers("events", project):
            project.removeMapLayer(layer.id())
        layer = events_layer(self.session.store)
        project.addMapLayer(layer)
        self._ensure_background_layer()

    def _ensure_background_layer(self) -> None:
        """The database's background map at the bottom of the layer tree (replacing an older one)."""
        project = QgsProject.instance()
        for old in find_layers(BACKGROUND_ROLE, project):
            project.removeMapLayer(old.id())
        background = Background.of(self.session.store) if self.session.store is not None else None
        layer = background.layer() if background is not None else None
        if layer is None:
            return
        project.addMapLayer(layer, False)
        project.layerTreeRoot().insertLayer(len(project.layerTreeRoot().children()), layer)

    # ------------------------------------------------------------------ docks
    def toggle_dock(self, key: str) -> None:
        dock = self.docks.get(key)
        if dock is None:
            module_name, class_name, area, _icon, _permission = DOCKS[key]
            module = importlib.import_module(module_name, __package__)
            dock = getattr(module, class_name)(self.iface, self.session)
            dock.setObjectName(f"EstWeekly_{key}")
            self.iface.addDockWidget(area, dock)
            dock.visibilityChanged.connect(self.dock_actions[key].setChecked)
            self.docks[key] = dock
            dock.show()
        else:
            dock.setVisible(not dock.isVisible())
        self.dock_actions[key].setChecked(dock.isVisible())

    def _on_store_changed(self) -> None:
        for key, action in self.dock_actions.items():
            action.setEnabled(self.session.may(DOCKS[key][4]))
        if self.import_action is not None:
            self.import_action.setEnabled(self.session.may("review"))
        for action in (self.privacy_action, self.background_action):
            if action is not None:
                action.setEnabled(self.session.may("administer"))
        if self.logins_action is not None:  # logins exist in a shared PostGIS database only
            self.logins_action.setEnabled(self.session.is_postgis and self.session.may("administer"))
        if self.session.store is not None:
            self._show_message(tr("plugin.opened", source=self.session.store.description,
                                  role=self.session.role_note()), Qgis.Info)

    def _show_message(self, text: str, level: int) -> None:
        QgsMessageLog.logMessage(text, LOG_TAG, level)
        bar = self.iface.messageBar()
        if bar is not None:
            bar.pushMessage(tr("plugin.name"), text, level, 6)

