"""The next turn of QGIS's event loop: how long GUI work is cut into steps QGIS can breathe between.

Why a 1 ms timer and not ``QTimer.singleShot(0, …)``: a zero timer is a posted event, and a chain
of them runs back to back ahead of QGIS's timers (map refresh, tooltips, our own progress), so a
"step by step" chain would still freeze QGIS for its whole length. A real timer takes its place
in line behind what is already due.
"""

from __future__ import annotations

from collections.abc import Callable

from qgis.PyQt.QtCore import QTimer

TURN_MS = 1


def in_next_turn(callback: Callable[[], object]) -> None:
    """Run *callback* in a later turn of the event loop, after what is already waiting."""
    QTimer.singleShot(TURN_MS, callback)
