"""The change feed: what changed among the events since the compilation last read them.

Why: reloading a million approved events after one approval costs a second or more; the
events changed since a token are usually a handful. A token is taken *before* a read, so
everything committed after it comes back in the next delta (some changes twice, which merging
by fid makes harmless) and nothing is missed.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..domain.model import ColumnsDelta, Event, EventColumns
from .values import columns_of_events

# Above this many changed events a full reload is as quick as merging them.
MAX_DELTA_EVENTS = 20_000


class ChangeFeed:
    """Change tokens and deltas, the same for both backends (the adapters say which events changed)."""

    @abstractmethod
    def change_token(self) -> int:
        """A token to take before reading events; :meth:`approved_changes` returns all changes after it."""

    @abstractmethod
    def _changed_event_fids(self, token: int) -> list[int]: ...

    def _token_and_changed_fids(self, token: int) -> tuple[int, list[int]]:
        """(a new token, the fids changed since *token*): the new token first, so nothing falls between."""
        new_token = self.change_token()
        return new_token, self._changed_event_fids(token)

    @abstractmethod
    def approved_events_by_fid(self, fids: Sequence[int]) -> list[Event]: ...

    def _approved_columns_by_fid(self, fids: Sequence[int], categories: list[str],
                                 organisations: list[str]) -> EventColumns | None:
        """The approved events among *fids* this login may see, as columns; None for an unknown code."""
        events: list[Any] = self.approved_events_by_fid(fids) if fids else []
        try:
            return columns_of_events(events, categories, organisations)
        except KeyError:
            return None

    def approved_changes(self, token: int, categories: list[str], organisations: list[str]) -> ColumnsDelta | None:
        """The events changed since *token*, those approved now as columns coded with the given
        lists; None when a full reload is the better answer (too many changes, a new category
        or organisation)."""
        new_token, fids = self._token_and_changed_fids(token)
        if len(fids) > MAX_DELTA_EVENTS:
            return None
        columns = self._approved_columns_by_fid(fids, categories, organisations)
        if columns is None:
            return None
        return ColumnsDelta(token=new_token, changed_fids=np.asarray(sorted(fids), dtype=np.int64), columns=columns)
