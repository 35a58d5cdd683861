"""Signing in through LDAP / Active Directory (ldap3): bind as the user, read the groups they belong to.

Invariants: the only host contacted is the configured server (no referrals followed, no schema read);
the user name is escaped into the DN (RFC 4514) and into the group filter (RFC 4515), so ``*`` or
``a)(uid=*`` name nobody; an empty password is refused before any bind (servers take it as an
anonymous bind and say yes); ldaps:// checks the server's certificate against the system's CAs.
A server that cannot be reached raises LdapUnavailable (one line the sign-in page shows); a wrong
name or password is None.
"""
from __future__ import annotations

import logging
import math
import ssl
from dataclasses import dataclass

from ..errors import YanduError

log = logging.getLogger(__name__)

_REFUSED = {32, 34, 48, 49, 50, 53}  # noSuchObject, invalidDNSyntax, inappropriateAuth, invalidCredentials, …


def _norm_dn(dn: str) -> str:
    """A DN to compare: attribute names and values lower-cased, spaces around separators gone."""
    from ldap3.utils.dn import parse_dn

    try:
        return ",".join(f"{a.strip().lower()}={v.strip().lower()}" for a, v, _ in parse_dn(dn, strip=True))
    except Exception:  # ldap3 raises LDAPInvalidDnError (and others) for a DN it cannot parse
        return dn.strip().lower()


class LdapUnavailable(YanduError):
    """The LDAP server cannot be reached or failed to answer; ``str(e)`` is the line the page shows."""


@dataclass(frozen=True)
class LdapUser:
    name: str
    groups: frozenset[str]  # the cn of each group the user is a member of
    admin: bool  # a member of the configured admin group


def _ldap3():
    try:
        import ldap3
    except ImportError:
        raise YanduError("LDAP sign-in needs ldap3: pip install -r requirements.txt") from None
    return ldap3


class LdapDirectory:
    """An LDAP server users sign in to. ``user_dn`` holds ``{user}`` (``uid={user},ou=people,dc=x`` or,
    for Active Directory, ``{user}@corp.example``); groups are searched under ``group_base`` (none
    when it is None); members of ``admin_group`` (a cn, or a full DN) are admins."""

    def __init__(self, url: str, user_dn: str, group_base: str | None = None, admin_group: str | None = None,
                 timeout: float = 5.0):
        if "{user}" not in user_dn:
            raise YanduError(f"the LDAP user DN needs {{user}} in it (got {user_dn!r})")
        self.url, self.user_dn, self.group_base, self.admin_group = url, user_dn, group_base, admin_group
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings) -> LdapDirectory | None:
        """The directory the settings name (``ldap_url`` …), or None when LDAP is not configured."""
        if not settings.ldap_url:
            return None
        return cls(settings.ldap_url, settings.ldap_user_dn, settings.ldap_group_base, settings.ldap_admin_group)

    def _unavailable(self, e) -> LdapUnavailable:
        reason = " ".join(str(e).split())[:200]
        return LdapUnavailable(f"无法连接 LDAP 服务器，请稍后再试或联系管理员 (LDAP server {self.url} unavailable: {reason})")

    def authenticate(self, user: str, password: str) -> LdapUser | None:
        """The user when the server accepts ``password`` for them, else None."""
        user = (user or "").strip()
        if not user or not isinstance(password, str) or not password:
            return None
        ldap3 = _ldap3()
        from ldap3.core.exceptions import LDAPException, LDAPInvalidCredentialsResult, LDAPOperationResult
        from ldap3.utils.conv import escape_filter_chars
        from ldap3.utils.dn import escape_rdn

        dn = self.user_dn.replace("{user}", escape_rdn(user))
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED)
        try:
            server = ldap3.Server(self.url, get_info=ldap3.NONE, connect_timeout=self.timeout, tls=tls)
            conn = ldap3.Connection(server, user=dn, password=password, auto_referrals=False, read_only=True,
                                    receive_timeout=max(1, math.ceil(self.timeout)),  # packed as whole seconds
                                    raise_exceptions=False)
        except LDAPException as e:
            raise self._unavailable(e) from None
        try:
            try:
                conn.open()
                bound = conn.bind()
            except LDAPInvalidCredentialsResult:
                return None
            except LDAPOperationResult as e:
                if e.result in _REFUSED:
                    return None
                raise self._unavailable(e) from None
            except LDAPException as e:
                raise self._unavailable(e) from None
            if not bound:
                code = conn.result.get("result") if conn.result else None
                if code in _REFUSED:
                    return None
                raise self._unavailable(conn.result.get("description") if conn.result else "bind failed")
            groups, admin = self._groups(conn, dn, user, escape_filter_chars) if self.group_base else (frozenset(), False)
            return LdapUser(user, groups, admin)
        except LDAPException as e:
            raise self._unavailable(e) from None
        finally:
            try:
                conn.unbind()
            except Exception:  # closing a socket the server already dropped
                log.debug("LDAP unbind failed", exc_info=True)

    def _groups(self, conn, dn: str, user: str, escape) -> tuple[frozenset[str], bool]:
        """The cn of the groups under group_base naming the user (member / uniqueMember = their DN,
        posixGroup memberUid = their name), and whether one of them is the admin group."""
        ldap3 = _ldap3()
        d, u = escape(dn), escape(user)
        query = (f"(|(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))"
                 f"(|(member={d})(uniqueMember={d})))(&(objectClass=posixGroup)(memberUid={u})))")
        conn.search(self.group_base, query, search_scope=ldap3.SUBTREE, attributes=["cn"], size_limit=1000,
                    time_limit=max(1, math.ceil(self.timeout)))
        if conn.result and conn.result.get("result") not in (0, 4, 32):  # success, sizeLimitExceeded, noSuchObject
            log.warning("LDAP group search under %s failed: %s", self.group_base, conn.result.get("description"))
        names, dns = set(), set()
        for entry in conn.response or ():
            if entry.get("type") != "searchResEntry":
                continue  # a referral: not followed
            cn = entry.get("attributes", {}).get("cn")
            cn = cn[0] if isinstance(cn, list) and cn else cn
            if cn:
                names.add(str(cn))
                dns.add(_norm_dn(str(entry.get("dn", ""))))
        admin = False
        if self.admin_group:
            wanted = self.admin_group.strip()
            admin = (_norm_dn(wanted) in dns) if "=" in wanted \
                else wanted.lower() in {n.lower() for n in names}
        return frozenset(names), admin
