"""What each role may do in EST Weekly — the one table every dock and dialog asks.

On a shared PostGIS database the same rules are enforced by PostgreSQL itself (row-level
security and grants, ``store/schema_security.py``); here they decide what the interface offers,
so a user is never shown a button the database would refuse.
"""

from __future__ import annotations

from .model import Login, Role

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.REPORTER: frozenset({"report", "view_own"}),
    Role.REVIEWER: frozenset({"report", "view_own", "review", "compile", "meeting"}),
    Role.VIEWER: frozenset({"compile"}),
    Role.ADMIN: frozenset({"report", "view_own", "review", "compile", "meeting", "administer"}),
}

# An administrator login of a shared PostGIS database: the database lets it manage logins,
# reference data and settings and read everything, but not report or decide.
PARTNER_ADMIN_PERMISSIONS = frozenset({"compile", "meeting", "administer"})


def allowed(login: Login, role: Role, permission: str) -> bool:
    """May *login* (acting as *role*) do *permission*? Separation of duties on a shared database:
    its administrator manages, reviewers decide."""
    if login.enforced and not login.maintainer and role == Role.ADMIN:
        return permission in PARTNER_ADMIN_PERMISSIONS
    return permission in PERMISSIONS[role]


def may_decide(login: Login, reporter: str) -> bool:
    """A reviewer never decides on their own report where the database enforces logins (PostGIS):
    the panel says so before the database refuses."""
    return not (login.enforced and not login.maintainer and reporter == login.login)
