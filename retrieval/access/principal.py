"""Who is asking: the one contract between sign-in (``access``) and every route of the web app and CLI."""
from __future__ import annotations

from dataclasses import dataclass

ROLES = ("reader", "editor")  # per knowledge base; an admin may do everything everywhere
CAN = {"reader": frozenset({"read"}), "editor": frozenset({"read", "edit"})}


@dataclass(frozen=True)
class Principal:
    """A signed-in user (or, when no account exists and no ``--auth`` is given, the local desktop user).

    ``bases`` maps each knowledge base the user may reach to the role they have there ("reader" or
    "editor"); an admin's map is not consulted (``may``). Invariant: made by ``access`` only, from the
    store's grants at sign-in (and again on each request, so a revoked grant takes effect at once)."""

    name: str
    admin: bool = False
    groups: frozenset[str] = frozenset()
    bases: tuple[tuple[str, str], ...] = ()  # (knowledge base, role), sorted
    source: str = "local"  # local | ldap | auth (--auth / YANDU_AUTH) | open (no sign-in configured)

    def role(self, base: str) -> str | None:
        """"editor", "reader" or None for this knowledge base (an admin: "editor" everywhere)."""
        if self.admin:
            return "editor"
        return dict(self.bases).get(base)

    def may(self, action: str, base: str) -> bool:
        """``action`` is "read" or "edit"."""
        role = self.role(base)
        return role is not None and action in CAN[role]

    def readable(self, bases) -> list[str]:
        """The given knowledge bases this user may read, in the order given."""
        return [b for b in bases if self.may("read", b)]


OPEN = Principal("本机用户", admin=True, source="open")  # no accounts, no --auth: the single-user desktop
