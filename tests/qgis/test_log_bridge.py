"""The plugin's Python logging reaches QGIS's Log Messages panel under "EST Weekly"."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from qgis.core import Qgis, QgsApplication

from est_weekly_plugin.domain import log


@pytest.fixture
def received(qgis_app) -> Iterator[list[tuple[str, str, object]]]:  # noqa: ANN001
    """Every EST Weekly message the QGIS message log sends out during the test."""
    messages: list[tuple[str, str, object]] = []

    def collect(message: str, tag: str, level: object) -> None:
        if tag == log.TAG:
            messages.append((message, tag, level))

    QgsApplication.messageLog().messageReceived.connect(collect)
    yield messages
    QgsApplication.messageLog().messageReceived.disconnect(collect)
    log.uninstall()


def test_a_warning_of_any_module_arrives_with_the_tag_and_warning_level(received) -> None:  # noqa: ANN001
    log.install()
    logging.getLogger("est_weekly_plugin.store.gpkg").warning("the file %s is locked", "x.gpkg")
    assert received == [("store.gpkg: the file x.gpkg is locked", "EST Weekly", Qgis.MessageLevel.Warning)]


@pytest.mark.parametrize(("level", "expected"), [
    (logging.DEBUG, Qgis.MessageLevel.Info), (logging.INFO, Qgis.MessageLevel.Info),
    (logging.WARNING, Qgis.MessageLevel.Warning), (logging.ERROR, Qgis.MessageLevel.Critical),
    (logging.CRITICAL, Qgis.MessageLevel.Critical)])
def test_levels_map_to_qgis_levels(received, level: int, expected: object) -> None:  # noqa: ANN001
    log.install(logging.DEBUG)
    logging.getLogger("est_weekly_plugin.analysis.weekly").log(level, "message")
    assert [m[2] for m in received] == [expected]


def test_info_arrives_but_debug_waits_for_a_lower_level(received) -> None:  # noqa: ANN001
    log.install()
    logger = logging.getLogger("est_weekly_plugin.maps.layers")
    logger.debug("noise")
    logger.info("layer added")
    assert [m[0] for m in received] == ["maps.layers: layer added"]


def test_an_exception_logs_its_traceback(received) -> None:  # noqa: ANN001
    log.install()
    try:
        raise ValueError("broken geometry")
    except ValueError:
        logging.getLogger("est_weekly_plugin.analysis.hotspots").exception("hot spots failed")
    (text, _, level), = received
    assert level == Qgis.MessageLevel.Critical
    assert text.startswith("analysis.hotspots: hot spots failed")
    assert "Traceback (most recent call last)" in text and "ValueError: broken geometry" in text


def test_removing_the_handler_stops_forwarding(received) -> None:  # noqa: ANN001
    log.install()
    log.uninstall()
    logging.getLogger("est_weekly_plugin.store.gpkg").warning("not shown")
    assert received == []
    assert not [h for h in logging.getLogger("est_weekly_plugin").handlers if isinstance(h, log.QgsMessageLogHandler)]


def test_installing_twice_gives_one_message(received) -> None:  # noqa: ANN001
    log.install()
    log.install()
    logging.getLogger("est_weekly_plugin.store.gpkg").warning("once")
    assert len(received) == 1
    log.uninstall()
    assert logging.getLogger("est_weekly_plugin").level == logging.NOTSET


def test_other_loggers_are_not_forwarded(received) -> None:  # noqa: ANN001
    log.install()
    logging.getLogger("some_other_plugin").warning("not ours")
    assert received == []


def test_a_worker_thread_may_log(received) -> None:  # noqa: ANN001
    log.install()
    worker = threading.Thread(target=lambda: logging.getLogger("est_weekly_plugin.analysis.tasks").warning("from a task"))
    worker.start()
    worker.join()
    QgsApplication.processEvents()
    assert [m[0] for m in received] == ["analysis.tasks: from a task"]


def test_a_listener_that_logs_back_does_not_loop(received) -> None:  # noqa: ANN001
    def echo(message: str, tag: str, level: object) -> None:
        logging.getLogger("est_weekly_plugin.echo").warning("echo of %s", message)

    log.install()
    QgsApplication.messageLog().messageReceived.connect(echo)
    try:
        logging.getLogger("est_weekly_plugin.store.gpkg").warning("first")
    finally:
        QgsApplication.messageLog().messageReceived.disconnect(echo)
    assert [m[0] for m in received] == ["store.gpkg: first"]
