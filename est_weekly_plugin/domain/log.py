"""Python ``logging`` of the plugin, shown in QGIS's *Log Messages* panel under "EST Weekly".

Modules log with ``LOG = logging.getLogger(__name__)``; one handler on the package logger
(``est_weekly_plugin``) forwards every record of the hierarchy to ``QgsMessageLog``, which may be
called from any thread (tasks log from workers). ``install()`` is idempotent — also across a
plugin reload, which brings a fresh copy of this module — and ``uninstall()`` undoes it.
"""

from __future__ import annotations

import logging
import threading

TAG = "EST Weekly"
PACKAGE = __name__.split(".")[0]  # "est_weekly_plugin"
_HANDLER_NAME = "est-weekly-qgis-message-log"
_level_set: list[int] = []  # the package logger's level before install() set it, to restore


class QgsMessageLogHandler(logging.Handler):
    """Forwards records to ``QgsMessageLog.logMessage(text, "EST Weekly", level)``:
    DEBUG/INFO → Info, WARNING → Warning, ERROR/CRITICAL → Critical; a record with an
    exception carries its traceback in the text."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.set_name(_HANDLER_NAME)
        self.setFormatter(_Formatter())
        self._busy = threading.local()  # a message-log listener that logs back must not loop

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._busy, "on", False):
            return
        self._busy.on = True
        try:
            from qgis.core import QgsMessageLog

            QgsMessageLog.logMessage(self.format(record), TAG, qgis_level(record.levelno))
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)
        finally:
            self._busy.on = False


class _Formatter(logging.Formatter):
    """``module: message`` (the package prefix left out), then the traceback if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        name = record.name.removeprefix(PACKAGE).lstrip(".")
        text = super().format(record)
        return f"{name}: {text}" if name else text


def qgis_level(levelno: int) -> object:
    """The ``Qgis.MessageLevel`` for a Python logging level."""
    from qgis.core import Qgis

    if levelno >= logging.ERROR:
        return Qgis.MessageLevel.Critical
    if levelno >= logging.WARNING:
        return Qgis.MessageLevel.Warning
    return Qgis.MessageLevel.Info


def install(level: int = logging.INFO) -> QgsMessageLogHandler:
    """Put the one handler on the package logger (replacing any earlier one, even one of a
    previous load of the plugin) and let records from *level* up through."""
    logger = logging.getLogger(PACKAGE)
    _remove_handlers(logger)
    handler = QgsMessageLogHandler()
    logger.addHandler(handler)
    if not _level_set:
        _level_set.append(logger.level)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return handler


def uninstall() -> None:
    """Take the handler off again and restore the package logger's level (plugin unload)."""
    logger = logging.getLogger(PACKAGE)
    _remove_handlers(logger)
    if _level_set:
        logger.setLevel(_level_set.pop())


def _remove_handlers(logger: logging.Logger) -> None:
    for handler in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(handler)
        handler.close()
