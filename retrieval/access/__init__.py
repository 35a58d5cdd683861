"""Departments: accounts, groups, grants per knowledge base, sign-in (local or LDAP), the audit log.

principal (Principal: who asks, what they may do) · store (AccessStore: users, groups, grants in SQLite;
passwords hashed with argon2) · sessions (signed-in sessions, in memory: a restart signs everyone out) ·
throttle (wrong passwords per address and per user name; forwarded addresses from named proxies only) ·
ldap (LDAP / Active Directory sign-in, groups mapped to Yandu groups) · audit (append-only log, CSV) ·
tokens (personal access tokens for the token API and MCP, stored hashed; a rate limit per token)

Nothing here imports Gradio: the web app (``web/signin.py``) and the CLI (``app.py user|group|grant|audit|token``)
call it.
"""
from .audit import ACTIONS, AuditEntry, AuditError, AuditLog, write_csv
from .ldap import LdapDirectory, LdapUnavailable, LdapUser
from .principal import OPEN, ROLES, Principal
from .store import AccessError, AccessStore, Grant, Group, User, check_name
from .tokens import RateLimit, Token, TokenStore

__all__ = ["ACTIONS", "OPEN", "ROLES", "AccessError", "AccessStore", "AuditEntry", "AuditError", "AuditLog", "Grant",
           "Group", "LdapDirectory", "LdapUnavailable", "LdapUser", "Principal", "RateLimit", "Token", "TokenStore",
           "User", "check_name", "write_csv"]
