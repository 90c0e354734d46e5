"""A QGIS interface with a real main window, menus, toolbars and dock areas.

pytest-qgis's ``QgisInterface`` keeps no menus and cannot remove anything, so tests of what a
plugin adds and removes run against this: the real QGIS map canvas and message bar from
pytest-qgis, plus real Qt menus and docks, which the assertions read back.
"""

from __future__ import annotations

from pytest_qgis.qgis_interface import QgisInterface
from qgis.PyQt.QtWidgets import QAction, QDockWidget, QMainWindow, QMenu, QToolBar


class ShellInterface(QgisInterface):
    def __init__(self, canvas, message_bar, main_window: QMainWindow) -> None:  # noqa: ANN001
        super().__init__(canvas, message_bar, main_window)
        self.window = main_window
        self.plugin_menu = main_window.menuBar().addMenu("&Plugins")
        self.plugin_toolbar = QToolBar("Plugins", main_window)
        main_window.addToolBar(self.plugin_toolbar)
        self.locator_filters: list = []

    def addPluginToMenu(self, name: str, action: QAction) -> None:  # noqa: N802
        menu = self.plugin_submenu(name) or self.plugin_menu.addMenu(name)
        menu.addAction(action)

    def removePluginMenu(self, name: str, action: QAction) -> None:  # noqa: N802
        menu = self.plugin_submenu(name)
        if menu is None:
            return
        menu.removeAction(action)
        if not menu.actions():
            self.plugin_menu.removeAction(menu.menuAction())

    def plugin_submenu(self, name: str) -> QMenu | None:
        for action in self.plugin_menu.actions():
            if action.menu() is not None and action.text() == name:
                return action.menu()
        return None

    def addToolBar(self, toolbar):  # noqa: ANN001, ANN201, N802
        bar = super().addToolBar(toolbar)
        self.window.addToolBar(bar)
        return bar

    def addToolBarIcon(self, action: QAction) -> None:  # noqa: N802
        self.plugin_toolbar.addAction(action)

    def removeToolBarIcon(self, action: QAction) -> None:  # noqa: N802
        self.plugin_toolbar.removeAction(action)

    def addDockWidget(self, area, dock_widget: QDockWidget) -> None:  # noqa: ANN001, N802
        self.window.addDockWidget(area, dock_widget)

    def removeDockWidget(self, dock_widget: QDockWidget) -> None:  # noqa: N802
        self.window.removeDockWidget(dock_widget)

    def registerLocatorFilter(self, locator_filter) -> None:  # noqa: ANN001, N802
        self.locator_filters.append(locator_filter)

    def deregisterLocatorFilter(self, locator_filter) -> None:  # noqa: ANN001, N802
        self.locator_filters.remove(locator_filter)

    def toolbars(self) -> list[QToolBar]:
        return self.window.findChildren(QToolBar)
