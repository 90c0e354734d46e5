"""Logins of a shared PostGIS database: who a login is, and the administrator's login management.

Every operation is one of the database's own SQL functions (``est.create_login`` …, see the
README), so the plugin has no power a database administrator with psql does not have, and the
rules (only administrators, never a role outside EST, passwords never stored) hold for both.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from ..domain.errors import EstError
from ..domain.model import Login, Role

LOGIN_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{2,62}$")
_ROLE_NAMES = {"reporter": Role.REPORTER, "reviewer": Role.REVIEWER, "viewer": Role.VIEWER, "admin": Role.ADMIN}
# No look-alikes (0/O, 1/l/I): the password is read from the screen once and typed elsewhere.
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_password(length: int = 16) -> str:
    """A random password for a new or reset login; shown once, never stored by the plugin."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def check_login_name(login: str) -> str:
    """Login names: 3–63 lower-case letters, digits, '.', '_' or '-', starting with a letter."""
    if not LOGIN_PATTERN.match(login or ""):
        raise EstError("bad_login", value=str(login)[:40].encode("unicode_escape").decode("ascii"))
    return login


class PgLogins:
    """Mixed into PostgisStore (needs ``_query`` and ``transaction``)."""

    _query: Any
    transaction: Any

    def whoami(self) -> Login:
        """The connected login, its organisation and EST role, as the database decides them."""
        rows = self._query("SELECT session_user, est.my_organisation(), est.my_role(), "
                           "(SELECT display_name FROM est.memberships WHERE login = session_user), "
                           "est.is_maintainer() AND est.my_organisation() IS NULL")
        login, organisation, role, name, maintainer = rows[0]
        return Login(str(login), organisation, _ROLE_NAMES.get(role or ""), True, name or "",
                     maintainer=bool(maintainer))

    def logins(self) -> list[Login]:
        """Every EST login (administrators see all; others only themselves — row-level security)."""
        rows = self._query("SELECT login, organisation, role, display_name, active FROM est.memberships "
                           "ORDER BY organisation, login")
        return [Login(r[0], r[1], _ROLE_NAMES[r[2]], True, r[3] or "", bool(r[4])) for r in rows]

    def create_login(self, login: str, organisation: str, role: Role, display_name: str = "") -> str:
        """Create a login for *organisation* with *role*; returns its password (show it once)."""
        password = new_password()
        self._call("est.create_login(?, ?, ?, ?, ?)", check_login_name(login), organisation, Role(role).value,
                   password, display_name)
        return password

    def reset_login_password(self, login: str) -> str:
        password = new_password()
        self._call("est.set_login_password(?, ?)", check_login_name(login), password)
        return password

    def set_login_role(self, login: str, role: Role, organisation: str | None = None) -> None:
        self._call("est.set_login_role(?, ?, ?)", check_login_name(login), Role(role).value, organisation)

    def set_login_active(self, login: str, active: bool) -> None:
        self._call("est.set_login_active(?, ?)", check_login_name(login), bool(active))

    def _call(self, function: str, *params: Any) -> None:
        with self.transaction() as cursor:
            cursor.execute(f"SELECT {function}".replace("?", "%s"), params)
