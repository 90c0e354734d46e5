"""Errors that carry a catalogue key, so every failure reaches the user in their language."""

from __future__ import annotations

from dataclasses import dataclass, field

from .i18n import tr


class EstError(Exception):
    """A failure the user must understand; ``code`` is an i18n key, ``params`` fill it."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str | None = None) -> str:
        return tr(f"error.{self.code}", lang, **self.params)

    def __str__(self) -> str:
        return self.message()


class DatabaseUnavailable(EstError):
    """The store cannot be reached (lost connection, missing file). Nothing was written."""


class SchemaError(EstError):
    """The file or database is not an EST store, or was written by a newer plugin."""


class ConflictError(EstError):
    """Someone else changed the event after it was read (optimistic concurrency)."""


class PermissionDenied(EstError):
    """The current role may not do this."""


@dataclass(frozen=True)
class Problem:
    """One reason a report is not valid: which field, and which catalogue key explains it."""

    field: str
    code: str
    params: dict[str, object] = field(default_factory=dict)

    def message(self, lang: str | None = None) -> str:
        params = dict(self.params)
        if "field" in params:
            params["field"] = tr(f"field.{params['field']}", lang)
        return tr(f"validation.{self.code}", lang, **params)


class ValidationError(EstError):
    """A report (or a batch) failed validation; nothing was written."""

    def __init__(self, problems: list[Problem], row: int | None = None) -> None:
        self.problems = problems
        self.row = row
        super().__init__("validation_failed", count=len(problems))

    def message(self, lang: str | None = None) -> str:
        lines = [p.message(lang) for p in self.problems]
        head = tr("error.validation_failed", lang, count=len(self.problems))
        if self.row is not None:
            head = tr("error.validation_failed_row", lang, row=self.row + 1, count=len(self.problems))
        return head + "\n" + "\n".join(f"• {line}" for line in lines)
