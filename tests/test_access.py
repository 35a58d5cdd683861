"""Accounts, groups and grants (retrieval/access/store.py) and their CLI (app.py user|group|grant|revoke|
grants|audit): hashing, grants resolved through groups, the last admin, hostile names, base renames.

Most stores hash with argon2's cheapest parameters (real argon2id, microseconds a hash); one test keeps the
product's defaults and checks an old cheap hash is renewed on sign-in."""
from __future__ import annotations

import io
import json
import sqlite3

import pytest
from argon2 import PasswordHasher, profiles

import app
from retrieval.access import OPEN, AccessError, AccessStore, AuditError, AuditLog, Principal, check_name

CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)


class CountingHasher(PasswordHasher):
    """argon2's own hasher, counting its verifications (a spy on a library, not on our code)."""

    def __init__(self):
        super().__init__(**{k: getattr(profiles.CHEAPEST, k) for k in
                            ("time_cost", "memory_cost", "parallelism", "hash_len", "salt_len")})
        self.verified = []

    def verify(self, hash, password):
        self.verified.append(hash)
        return super().verify(hash, password)


@pytest.fixture
def store(tmp_path):
    s = AccessStore(tmp_path / "access.sqlite", audit=AuditLog(tmp_path / "audit.sqlite"), hasher=CHEAP)
    yield s
    s.close()
    s.audit.close()


def test_passwords_are_hashed_with_argon2id_never_stored_plain(tmp_path, store):
    store.add_user("张三", "绝密口令-Plaintext-42", admin=True)
    store.add_user("lisi", "another-secret-pw")
    store.set_password("lisi", "changed-secret-pw")
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("access.sqlite*"))
    for secret in ("绝密口令-Plaintext-42", "another-secret-pw", "changed-secret-pw"):
        assert secret.encode() not in raw and secret.encode("utf-16-le") not in raw
    hashes = [h for (h,) in sqlite3.connect(tmp_path / "access.sqlite").execute("SELECT password_hash FROM users")]
    assert len(hashes) == 2 and all(h.startswith("$argon2id$") for h in hashes)
    assert (tmp_path / "access.sqlite").stat().st_mode & 0o077 == 0  # readable by its owner only


def test_verify_and_authenticate(store):
    store.add_user("alice", "correct horse", admin=False)
    assert store.verify("alice", "correct horse") and store.verify(" ALICE ", "correct horse")
    for wrong in ("Correct horse", "", "correct horse ", None, "x" * 5000):
        assert not store.verify("alice", wrong)
    p = store.authenticate("Alice", "correct horse")
    assert p == Principal("alice", source="local")  # the stored spelling
    assert store.authenticate("alice", "wrong password") is None
    assert store.authenticate("bob", "correct horse") is None
    assert store.authenticate("a\x00lice", "correct horse") is None


def test_verify_spends_one_argon2_check_for_unknown_and_ldap_only_names(tmp_path):
    hasher = CountingHasher()
    store = AccessStore(tmp_path / "a.sqlite", hasher=hasher)
    store.add_user("alice", "correct horse")
    store.add_user("ldapuser")  # no password: LDAP only
    for name, password in (("alice", "correct horse"), ("nobody", "correct horse"), ("ldapuser", "anything!"),
                           ("bad:name", "correct horse"), ("alice", ""), ("alice", "y" * 5000)):
        before = len(hasher.verified)
        assert store.verify(name, password) is (name == "alice" and password == "correct horse")
        assert len(hasher.verified) == before + 1, (name, password)
    real = store._user_row("alice")[1]
    assert hasher.verified[0] == real and real not in hasher.verified[1:3]  # a dummy for the unknown ones
    assert store.authenticate("ldapuser", "anything!") is None  # no directory: nobody to ask
    assert len(hasher.verified) == 7


def test_default_parameters_and_old_hashes_renewed(tmp_path):
    cheap = AccessStore(tmp_path / "a.sqlite", hasher=CHEAP)
    cheap.add_user("alice", "correct horse")
    old = cheap._user_row("alice")[1]
    cheap.close()
    store = AccessStore(tmp_path / "a.sqlite")  # the product's argon2 parameters
    assert store.verify("alice", "correct horse")
    new = store._user_row("alice")[1]
    assert new != old and not store.hasher.check_needs_rehash(new) and store.verify("alice", "correct horse")


def test_grants_resolve_through_groups_editor_beats_reader(store):
    store.add_user("root", "root-password", admin=True)
    store.add_user("bob", "bob-password")
    store.add_user("carol", "carol-password")
    for g in ("纪检组", "office"):
        store.add_group(g)
    store.add_member("纪检组", "bob")
    store.add_member("office", "bob")
    store.grant("jijian", "reader", group="纪检组")
    store.grant("jijian", "editor", group="office")  # editor beats reader, whichever group gives it
    store.grant("default", "editor", group="纪检组")
    store.grant("default", "reader", user="bob")
    store.grant("finance", "reader", user="carol")
    bob = store.principal("bob")
    assert bob.bases == (("default", "editor"), ("jijian", "editor")) and bob.groups == {"纪检组", "office"}
    assert bob.may("edit", "jijian") and not bob.may("read", "finance") and not bob.admin
    assert store.principal("carol").bases == (("finance", "reader"),)
    assert store.principal("root").admin and store.principal("root").may("edit", "anything")
    # re-granting replaces the role; revoking takes it away; a grant needs an existing holder
    store.grant("jijian", "reader", group="office")
    assert store.principal("bob").role("jijian") == "reader"
    assert [(g.base, g.role) for g in store.grants("jijian")] == [("jijian", "reader")] * 2
    store.revoke("jijian", group="office")
    store.remove_member("纪检组", "bob")
    assert store.principal("bob").bases == (("default", "reader"),)
    with pytest.raises(AccessError, match="no such group"):
        store.grant("jijian", "reader", group="ghosts")
    with pytest.raises(AccessError, match="no such user"):
        store.grant("jijian", "reader", user="ghost")
    with pytest.raises(AccessError, match="unknown role"):
        store.grant("jijian", "admin", user="bob")
    with pytest.raises(AccessError, match="exactly one"):
        store.grant("jijian", "reader", user="bob", group="office")
    with pytest.raises(AccessError, match="no grant"):
        store.revoke("jijian", user="carol")
    # removing a group or a user takes their grants and memberships with them
    store.remove_group("office")
    store.remove_user("carol")
    assert [(g.base, g.user, g.group) for g in store.grants()] == [("default", "bob", None), ("default", None, "纪检组"),
                                                                   ("jijian", None, "纪检组")]
    assert [u.name for u in store.users()] == ["bob", "root"] and store.groups()[0].members == ()


def test_ldap_user_without_a_row_is_known_by_groups(store):
    store.add_group("jijian")
    store.grant("jijian", "editor", group="jijian")
    p = store.principal("wangwu", source="ldap", groups=frozenset({"JIJIAN", "unknown-cn", "bad\x07cn"}))
    assert p == Principal("wangwu", groups=frozenset({"jijian", "unknown-cn"}), bases=(("jijian", "editor"),),
                          source="ldap")
    assert store.principal("wangwu", source="ldap", admin=True).admin
    assert not store.has_accounts()  # a principal is not an account


def test_last_admin_cannot_be_removed_or_demoted(store):
    store.add_user("root", "root-password", admin=True)
    for attempt in (lambda: store.remove_user("root"), lambda: store.set_admin("ROOT", False)):
        with pytest.raises(AccessError, match="last admin"):
            attempt()
    store.add_user("second", "second-password")
    store.set_admin("second", True)
    store.set_admin("root", False)
    with pytest.raises(AccessError, match="last admin"):
        store.remove_user("second")
    store.set_admin("root", True)
    store.remove_user("second")
    assert [(u.name, u.admin) for u in store.users()] == [("root", True)]


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "a:b", "a/b", "tab\there", "nul\x00", "zero\u200bwidth",
                                  "line\u2028sep", "esc\x1b[31m", 42, None])
def test_hostile_user_names_refused_with_one_line(store, name):
    with pytest.raises(AccessError) as e:
        store.add_user(name, "long-enough-pw")
    assert "\n" not in str(e.value)
    assert not store.has_accounts()


def test_names_normalised_and_unique_without_regard_to_case(store):
    assert check_name("  ａｌｉｃｅ ") == "alice" and check_name("x" * 64) == "x" * 64
    assert check_name("部门/组", "group") == "部门/组"  # only user names exclude ':' and '/'
    store.add_user("Alice", "long-enough-pw")
    for dup in ("alice", "ALICE", "ａｌｉｃｅ"):
        with pytest.raises(AccessError, match="already exists"):
            store.add_user(dup, "long-enough-pw")
    store.add_group("Team")
    with pytest.raises(AccessError, match="already exists"):
        store.add_group("team")
    with pytest.raises(AccessError, match="at least 8"):
        store.add_user("short", "1234567")
    with pytest.raises(AccessError, match="at least 8"):
        store.add_user("empty", "")


def test_rename_and_drop_base_carry_grants(store):
    store.add_user("bob", "bob-password")
    store.add_group("g")
    store.grant("old", "editor", user="bob")
    store.grant("old", "reader", group="g")
    store.grant("other", "reader", user="bob")
    store.rename_base("old", "new")
    assert sorted((g.base, g.role) for g in store.grants()) == [("new", "editor"), ("new", "reader"), ("other", "reader")]
    with pytest.raises(AccessError, match="already has grants"):
        store.rename_base("new", "other")
    store.drop_base("new")
    assert [(g.base, g.user) for g in store.grants()] == [("other", "bob")]
    assert store.principal("bob").bases == (("other", "reader"),)


def test_every_change_is_audited_and_a_refused_one_is_not(store):
    store.add_user("root", "root-password", admin=True, by="cli")
    store.add_user("bob", by="root")
    store.set_password("bob", "bob-password", by="root")
    store.set_admin("bob", True, by="root")
    store.add_group("g", by="root")
    store.add_member("g", "bob", by="root")
    store.grant("kb", "reader", group="g", by="root")
    store.revoke("kb", group="g", by="root")
    store.remove_member("g", "bob", by="root")
    store.rename_base("kb", "kb2", by="root")
    store.drop_base("kb2", by="root")
    store.remove_group("g", by="root")
    store.remove_user("bob", by="root")
    with pytest.raises(AccessError):
        store.remove_user("root", by="root")
    actions = [e.action for e in reversed(store.audit.entries())]
    assert actions == ["user_add", "user_add", "password_set", "admin_set", "group_add", "member_add", "grant", "revoke",
                       "member_remove", "base_rename", "base_drop", "group_remove", "user_remove"]
    grant = store.audit.entries(action="grant")[0]
    assert (grant.user, grant.base, grant.target, json.loads(grant.detail)) == ("root", "kb", "g",
                                                                                {"kind": "group", "role": "reader"})
    assert "password" not in json.dumps([e.to_json() for e in store.audit.entries()]).replace("password_set", "")


def test_a_change_whose_audit_entry_fails_is_rolled_back(tmp_path, store):
    store.audit.close()  # the log cannot be written
    with pytest.raises(AuditError, match="cannot write the audit log"):
        store.add_user("bob", "bob-password")
    assert not store.has_accounts()


def test_not_a_database_is_one_line(tmp_path):
    bad = tmp_path / "access.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(AccessError) as e:
        AccessStore(bad, hasher=CHEAP)
    assert str(e.value).startswith("access.sqlite: ") and "\n" not in str(e.value)
    assert OPEN.admin  # the contract this store feeds is unchanged


# --- the CLI, through app.py's main ---------------------------------------------------------------------


def run(monkeypatch, capsys, *argv, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = app.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_accounts_groups_grants_and_audit(tmp_path, monkeypatch, capsys):
    bases = ["--bases", str(tmp_path)]
    assert run(monkeypatch, capsys, "user", "add", "root", "--admin", "--password-stdin", *bases,
               stdin="root-password\n")[0] == 0
    assert run(monkeypatch, capsys, "user", "add", "bob", "--no-password", *bases)[0] == 0
    assert run(monkeypatch, capsys, "group", "add", "纪检组", *bases)[0] == 0
    assert run(monkeypatch, capsys, "group", "member-add", "纪检组", "bob", *bases)[0] == 0
    assert run(monkeypatch, capsys, "grant", "jijian", "--group", "纪检组", "--role", "editor", *bases)[0] == 0
    assert run(monkeypatch, capsys, "grant", "default", "--user", "bob", "--role", "reader", *bases)[0] == 0
    code, out, _ = run(monkeypatch, capsys, "user", "list", "--json", *bases)
    users = {u["name"]: u for u in json.loads(out)}
    assert code == 0 and users["root"]["admin"] and users["root"]["has_password"]
    assert users["bob"]["groups"] == ["纪检组"] and not users["bob"]["has_password"]
    code, out, _ = run(monkeypatch, capsys, "grants", "jijian", *bases)
    assert code == 0 and "纪检组" in out and "editor" in out and "bob" not in out
    code, out, _ = run(monkeypatch, capsys, "group", "list", *bases)
    assert "纪检组" in out and "bob" in out
    # errors: one line, exit 1
    code, _, err = run(monkeypatch, capsys, "user", "remove", "root", *bases)
    assert code == 1 and err.count("\n") == 1 and "last admin" in err
    code, _, err = run(monkeypatch, capsys, "user", "add", "eve", "--password-stdin", *bases, stdin="short\n")
    assert code == 1 and "at least 8" in err
    code, _, err = run(monkeypatch, capsys, "grant", "jijian", "--user", "ghost", "--role", "reader", *bases)
    assert code == 1 and err.count("\n") == 1
    with pytest.raises(SystemExit):  # a password is never an argument
        run(monkeypatch, capsys, "user", "add", "eve", "--password", "secret-password", *bases)
    assert run(monkeypatch, capsys, "user", "passwd", "bob", "--password-stdin", *bases, stdin="bob-password\n")[0] == 0
    assert run(monkeypatch, capsys, "user", "admin", "bob", "--on", *bases)[0] == 0
    assert run(monkeypatch, capsys, "revoke", "default", "--user", "bob", *bases)[0] == 0
    store = AccessStore(tmp_path / "access.sqlite", hasher=CHEAP)
    assert store.authenticate("bob", "bob-password") == Principal(
        "bob", admin=True, groups=frozenset({"纪检组"}), bases=(("jijian", "editor"),), source="local")
    # the audit log: every change by "cli", filters, CSV with a BOM for Excel
    code, out, _ = run(monkeypatch, capsys, "audit", "--json", *bases)
    entries = json.loads(out)
    assert code == 0 and len(entries) == 9 and {e["user"] for e in entries} == {"cli"}
    assert entries[0]["action"] == "revoke"  # newest first
    code, out, _ = run(monkeypatch, capsys, "audit", "--action", "grant", "--base", "jijian", *bases)
    assert code == 0 and out.count("授权") == 1 and "纪检组" in out
    code, out, _ = run(monkeypatch, capsys, "audit", "--since", "2999-01-01", "--json", *bases)
    assert json.loads(out) == []
    csv_file = tmp_path / "audit.csv"
    assert run(monkeypatch, capsys, "audit", "--csv", str(csv_file), *bases)[0] == 0
    data = csv_file.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "添加用户".encode() in data and data.count(b"\r\n") == 10
    with pytest.raises(SystemExit) as e:
        run(monkeypatch, capsys, "audit", "--since", "yesterday", *bases)
    assert e.value.code == 2 and "not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_cli_bases_folder_that_is_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "bases"
    blocker.write_text("not a folder")
    for argv in (("user", "list"), ("grants",), ("audit",), ("group", "add", "g")):
        code, out, err = run(monkeypatch, capsys, *argv, "--bases", str(blocker))
        assert code == 1 and out == "" and err.count("\n") == 1 and ".sqlite: " in err, (argv, err)
    assert blocker.read_text() == "not a folder"


def test_cli_commands_that_only_read_create_nothing(tmp_path, monkeypatch, capsys):
    """A fresh clone: listing accounts, grants, tokens, the audit log, feedback or usage makes no file."""
    bases = ["--bases", str(tmp_path / "bases")]
    for argv in (("user", "list", "--json"), ("group", "list", "--json"), ("grants", "--json"),
                 ("token", "list", "--json"), ("audit", "--json"), ("feedback", "export", "--kb", "a"),
                 ("report-usage", "--json", "--corpus", str(tmp_path / "corpus"), "--index-dir", str(tmp_path / "i")),
                 ("kb", "list", "--bases-dir", str(tmp_path / "bases"))):
        code, out, err = run(monkeypatch, capsys, *argv, *(bases if argv[0] != "kb" else ()))
        assert code == 0, (argv, err)
        assert out.strip() in ("[]", "") or argv[0] in ("report-usage", "kb"), (argv, out)
        assert "no accounts yet" in err or "no audit log yet" in err or argv[0] == "kb", (argv, err)
        assert not (tmp_path / "bases").exists(), argv
    assert json.loads(run(monkeypatch, capsys, "report-usage", "--json", *bases)[1])["questions"] == 0
    # once there is an account, the same commands read it (and log nothing)
    assert run(monkeypatch, capsys, "user", "add", "王五", "--no-password", *bases)[0] == 0
    code, out, err = run(monkeypatch, capsys, "user", "list", "--json", *bases)
    assert code == 0 and [u["name"] for u in json.loads(out)] == ["王五"] and err == ""
    run(monkeypatch, capsys, "grants", *bases)
    assert [e["action"] for e in json.loads(run(monkeypatch, capsys, "audit", "--json", *bases)[1])] == ["user_add"]


def test_cli_plain_listings(tmp_path, monkeypatch, capsys):
    bases = ["--bases", str(tmp_path)]
    run(monkeypatch, capsys, "user", "add", "王五", "--no-password", *bases)
    run(monkeypatch, capsys, "group", "add", "办公室", *bases)
    run(monkeypatch, capsys, "group", "member-add", "办公室", "王五", *bases)
    code, out, _ = run(monkeypatch, capsys, "user", "list", *bases)
    assert code == 0 and out.split("\t")[:4] == ["王五", "用户", "LDAP", "办公室"]
    code, out, _ = run(monkeypatch, capsys, "audit", "--user", "cli", "--limit", "1", *bases)
    assert code == 0 and out.splitlines()[0].split("\t")[1:5] == ["cli", "加入用户组", "-", "王五"]
    assert run(monkeypatch, capsys, "group", "member-remove", "办公室", "王五", *bases)[0] == 0
    assert run(monkeypatch, capsys, "group", "remove", "办公室", *bases)[0] == 0
    assert run(monkeypatch, capsys, "group", "list", "--json", *bases)[1].strip() == "[]"
