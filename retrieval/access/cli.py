"""The accounts' commands for app.py: user, group, grant, revoke, grants, audit, token, feedback, report-usage.

``add_parsers(sub)`` adds them to app.py's subparsers; ``COMMANDS`` maps each to its function
(``args -> exit code``). They work on ``bases_dir/access.sqlite`` and log to ``bases_dir/audit.sqlite``
as "cli". A password is read from standard input (``--password-stdin``) or typed at a prompt, never
taken as an argument (it would stay in the shell history and the process list); a new token is printed
once, alone on standard output (the note that it is shown once goes to standard error). Errors are
``YanduError``s: app.py prints their one line and exits 1. A command that only reads (the listings,
``grants``, ``audit``, ``feedback export``, ``report-usage``) creates no file: before the first account
or entry it answers with nothing, and says why on standard error.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

from ..config import Settings
from .audit import ACTIONS, AuditLog, write_csv
from .principal import ROLES
from .store import AccessError, AccessStore
from .tokens import TokenStore

BY = "cli"


def _bases(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bases", type=Path, help="folder of the knowledge bases, access.sqlite and audit.sqlite "
                                              "(default: ./bases; env YANDU_BASES)")


def _holder(p: argparse.ArgumentParser) -> None:
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user")
    who.add_argument("--group")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_parsers(sub) -> None:
    """Add the accounts' commands to app.py's subparsers."""
    p = sub.add_parser("user", help="accounts: add, passwd, remove, list, admin")
    users = p.add_subparsers(dest="action", required=True)
    q = users.add_parser("add", help="a new account (the password is asked for, or read from stdin)")
    q.add_argument("name")
    q.add_argument("--admin", action="store_true")
    how = q.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    how.add_argument("--no-password", action="store_true", help="no local password: signs in through LDAP only")
    q = users.add_parser("passwd", help="set a user's password")
    q.add_argument("name")
    q.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    q = users.add_parser("remove", help="remove an account (its grants and memberships go with it)")
    q.add_argument("name")
    q = users.add_parser("list", help="the accounts")
    q.add_argument("--json", action="store_true")
    q = users.add_parser("admin", help="make a user an admin (--on) or not (--off)")
    q.add_argument("name")
    flag = q.add_mutually_exclusive_group(required=True)
    flag.add_argument("--on", dest="admin", action="store_true")
    flag.add_argument("--off", dest="admin", action="store_false")
    for q in users.choices.values():
        _bases(q)

    p = sub.add_parser("group", help="groups: add, remove, member-add, member-remove, list")
    groups = p.add_subparsers(dest="action", required=True)
    for name, text in (("add", "a new group (an LDAP group of the same name maps to it)"),
                       ("remove", "remove a group (its grants and memberships go with it)")):
        groups.add_parser(name, help=text).add_argument("name")
    for name in ("member-add", "member-remove"):
        q = groups.add_parser(name, help=f"{'add a user to' if name == 'member-add' else 'remove a user from'} a group")
        q.add_argument("group")
        q.add_argument("user")
    groups.add_parser("list", help="the groups and their members").add_argument("--json", action="store_true")
    for q in groups.choices.values():
        _bases(q)

    p = sub.add_parser("grant", help="give a user or group a role on a knowledge base (replaces their role there)")
    p.add_argument("base")
    _holder(p)
    p.add_argument("--role", choices=ROLES, required=True)
    _bases(p)
    p = sub.add_parser("revoke", help="take a user's or group's role on a knowledge base away")
    p.add_argument("base")
    _holder(p)
    _bases(p)
    p = sub.add_parser("grants", help="who may read or edit which knowledge base")
    p.add_argument("base", nargs="?")
    p.add_argument("--json", action="store_true")
    _bases(p)

    p = sub.add_parser("audit", help="the audit log, newest first (--csv for Excel)")
    p.add_argument("--since", type=_day, help="from this day (YYYY-MM-DD)")
    p.add_argument("--until", type=_day, help="up to and including this day (YYYY-MM-DD)")
    p.add_argument("--user")
    p.add_argument("--action", choices=list(ACTIONS), metavar="ACTION", help=", ".join(ACTIONS))
    p.add_argument("--base")
    p.add_argument("--limit", type=int)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", nargs="?", const="-", metavar="FILE", help="CSV (UTF-8 with BOM) to FILE or stdout")
    out.add_argument("--json", action="store_true")
    _bases(p)

    p = sub.add_parser("feedback", help="readers' 👍/👎: export them as a question set for app.py eval and train-ranker")
    fb = p.add_subparsers(dest="action", required=True)
    q = fb.add_parser("export", help="the scorer's JSONL: gold = the 👍 answers' passages, 👎 kept as negatives")
    q.add_argument("--base", "--kb", help="only answers from this knowledge base")
    q.add_argument("--since", type=_day, help="only feedback from this day on (YYYY-MM-DD)")
    q.add_argument("--out", type=Path, help="JSONL file to write (default: standard output)")
    _bases(q)

    p = sub.add_parser("report-usage", help="questions per day and knowledge base, failed questions, 👎 passages, "
                                            "reports never cited")
    p.add_argument("--since", type=_day, help="from this day (YYYY-MM-DD)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", nargs="?", const="-", metavar="FILE", help="CSV (UTF-8 with BOM) to FILE or stdout")
    out.add_argument("--json", action="store_true")
    p.add_argument("--corpus", type=Path, help="the default knowledge base's reports (default: ./corpus; env YANDU_CORPUS)")
    p.add_argument("--index-dir", type=Path, help="its index (default: ./index; env YANDU_INDEX)")
    _bases(p)

    p = sub.add_parser("token", help="personal access tokens for the HTTP API and MCP: issue, list, revoke")
    tokens = p.add_subparsers(dest="action", required=True)
    q = tokens.add_parser("issue", help="a new token for a user (printed once, stored hashed)")
    q.add_argument("user")
    q.add_argument("--label", default="", help="what it is for, e.g. the assistant that uses it")
    q = tokens.add_parser("list", help="the tokens (never their secrets)")
    q.add_argument("--user")
    q.add_argument("--json", action="store_true")
    tokens.add_parser("revoke", help="revoke a token at once").add_argument("id", type=int)
    for q in tokens.choices.values():
        _bases(q)


def _settings(args) -> Settings:
    return Settings().with_overrides(bases_dir=args.bases)


def _store(args) -> AccessStore:
    bases = _settings(args).bases_dir
    return AccessStore(bases / "access.sqlite", audit=AuditLog(bases / "audit.sqlite"))


NOTHING_YET = {"access.sqlite": "尚无账户 (no accounts yet: python app.py user add NAME --admin)",
               "audit.sqlite": "尚无审计日志 (no audit log yet)"}


def _existing(args, name: str) -> Path | None:
    """The file ``name`` in the bases folder for a command that only reads it, or None (said on stderr)
    when there is none yet: reading creates nothing. A bases folder that is not a folder is opened
    anyway, for its one-line error."""
    path = _settings(args).bases_dir / name
    if path.exists() or (path.parent.exists() and not path.parent.is_dir()):
        return path
    print(NOTHING_YET[name], file=sys.stderr)
    return None


def _reader(args) -> AccessStore | None:
    """The account store to read (no audit: reading is not logged), or None before the first account."""
    path = _existing(args, "access.sqlite")
    return AccessStore(path) if path else None


def _entries(args, **filters) -> list:
    """The audit log's entries (``AuditLog.entries``), or [] before the first one."""
    path = _existing(args, "audit.sqlite")
    return AuditLog(path).entries(**filters) if path else []


def _password(args) -> str:
    """The new password: one line of stdin, or typed twice at a prompt."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码 (password): ")
    if getpass.getpass("再次输入 (again): ") != first:
        raise AccessError("两次输入的密码不一致 (the passwords differ)")
    return first


def _print(args, data, lines) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=1))
    elif lines:
        print("\n".join(lines))


def cmd_user(args) -> int:
    if args.action == "list":
        store = _reader(args)
        users = store.users() if store else []
        _print(args, [asdict(u) for u in users],
               [f"{u.name}\t{'管理员' if u.admin else '用户'}\t{'密码' if u.has_password else 'LDAP'}\t"
                f"{','.join(u.groups) or '-'}\t{u.created}" for u in users])
        return 0
    store = _store(args)
    if args.action == "add":
        password = None if args.no_password else _password(args)
        store.add_user(args.name, password, admin=args.admin, by=BY)
    elif args.action == "passwd":
        store.set_password(args.name, _password(args), by=BY)
    elif args.action == "remove":
        store.remove_user(args.name, by=BY)
    else:
        store.set_admin(args.name, args.admin, by=BY)
    return 0


def cmd_group(args) -> int:
    if args.action == "list":
        store = _reader(args)
        groups = store.groups() if store else []
        _print(args, [asdict(g) for g in groups], [f"{g.name}\t{','.join(g.members) or '-'}" for g in groups])
        return 0
    store = _store(args)
    if args.action == "add":
        store.add_group(args.name, by=BY)
    elif args.action == "remove":
        store.remove_group(args.name, by=BY)
    elif args.action == "member-add":
        store.add_member(args.group, args.user, by=BY)
    else:
        store.remove_member(args.group, args.user, by=BY)
    return 0


def cmd_grant(args) -> int:
    _store(args).grant(args.base, args.role, user=args.user, group=args.group, by=BY)
    return 0


def cmd_revoke(args) -> int:
    _store(args).revoke(args.base, user=args.user, group=args.group, by=BY)
    return 0


def cmd_grants(args) -> int:
    store = _reader(args)
    grants = store.grants(args.base) if store else []
    _print(args, [asdict(g) for g in grants],
           [f"{g.base}\t{g.role}\t" + (f"用户 {g.user}" if g.user else f"用户组 {g.group}") for g in grants])
    return 0


def cmd_audit(args) -> int:
    entries = _entries(args, since=args.since, until=args.until, user=args.user, action=args.action, base=args.base,
                       limit=args.limit)
    if args.csv:
        write_csv(entries, sys.stdout if args.csv == "-" else Path(args.csv))
        return 0
    _print(args, [e.to_json() for e in entries],
           [f"{e.time:%Y-%m-%d %H:%M:%S}\t{e.user or '-'}\t{e.label}\t{e.base or '-'}\t{e.target or '-'}\t"
            f"{e.detail or ''}\t{e.client or ''}".rstrip() for e in entries])
    return 0


def cmd_token(args) -> int:
    if args.action == "list":
        store = _reader(args)
        found = [t.to_json() for t in TokenStore(store).list(args.user)] if store else []
        _print(args, found, [f"{t['id']}\t{t['user']}\t{t['label'] or '-'}\t{t['created']}\t{t['last_used'] or '未使用'}"
                             for t in found])
        return 0
    tokens = TokenStore(_store(args))
    if args.action == "issue":
        print(tokens.issue(args.user, args.label, by=BY))
        print("访问令牌只显示这一次，请妥善保存 (the token is shown once: keep it now)", file=sys.stderr)
    else:
        tokens.revoke(args.id, by=BY)
    return 0


def cmd_feedback(args) -> int:
    from ..eval.feedback import export_questions, write_jsonl

    done = export_questions(_entries(args, since=args.since, action="feedback"), base=args.base, since=args.since)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            write_jsonl(done.questions, f)
    else:
        write_jsonl(done.questions, sys.stdout)
    print(f"{len(done.questions)} 个问题已导出；{done.left_out} 个只被标记无用的问题未导出（没有正确答案可评分）"
          f" ({len(done.questions)} questions exported, {done.left_out} with 👎 only left out)", file=sys.stderr)
    return 0


def cmd_report_usage(args) -> int:
    from ..bases import Bases
    from .usage import usage, usage_tables, write_usage_csv

    settings = _settings(args).with_overrides(corpus_dir=args.corpus, index_dir=args.index_dir)
    bases = Bases(settings)
    library = [(b, r.source) for b, r in bases.library(bases.names())]
    figures = usage(_entries(args, since=args.since), library)
    if args.csv:
        write_usage_csv(figures, sys.stdout if args.csv == "-" else Path(args.csv))
        return 0
    tables = usage_tables(figures)
    _print(args, {**asdict(figures), "never_cited": [list(r) for r in figures.never_cited]},
           [f"提问 {figures.questions} 次；有用 {figures.feedback['up']}，无用 {figures.feedback['down']}"]
           + [line for title, (headers, rows) in tables.items()
              for line in ["", f"## {title}", "\t".join(headers), *("\t".join(str(v) for v in row) for row in rows)]])
    return 0


COMMANDS = {"user": cmd_user, "group": cmd_group, "grant": cmd_grant, "revoke": cmd_revoke, "grants": cmd_grants,
            "audit": cmd_audit, "token": cmd_token,
            "feedback": cmd_feedback, "report-usage": cmd_report_usage}
