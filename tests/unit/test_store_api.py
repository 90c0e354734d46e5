"""Nothing outside the store package touches the store's internals: one store API."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "est_weekly_plugin"
STORE = PACKAGE / "store"
PRIVATE = re.compile(r"\bstore\._[a-z]\w*")  # store._query, self.store._table, session.store._conn …


def test_no_private_store_member_is_used_outside_the_store_package() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py")) if STORE not in path.parents
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PRIVATE.search(line)
    ]
    assert offenders == [], "\n".join(offenders)


def test_the_rule_finds_what_it_looks_for() -> None:
    assert PRIVATE.search("rows = store._query('SELECT 1')")
    assert PRIVATE.search("x = self.session.store._table('events')")
    assert not PRIVATE.search("store.audit_log(uuid)") and not PRIVATE.search("self._cursor = QCursor()")
