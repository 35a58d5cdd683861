"""LDAP sign-in (retrieval/access/ldap.py) against a real OpenLDAP ``slapd`` started in a temporary folder on
a free port (Debian ``slapd`` + ``ldap-utils``; .ci/run installs them): right and wrong passwords, empty
passwords, injection-like names, groups of three kinds mapped to grants, the admin group, a server that is
down or never answers."""
from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles

from retrieval.access import AccessStore, LdapDirectory, LdapUnavailable, LdapUser, Principal
from retrieval.config import Settings

SLAPD = shutil.which("slapd") or next((p for p in ("/usr/sbin/slapd",) if Path(p).exists()), None)
LDAPADD = shutil.which("ldapadd")
pytestmark = [pytest.mark.slow,  # starts a server
              pytest.mark.skipif(not (SLAPD and LDAPADD), reason="needs OpenLDAP: apt-get install -y "
                                 "--no-install-recommends slapd ldap-utils (as .ci/run does)")]

SUFFIX = "dc=yandu,dc=test"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
USERS = {"alice": "alice-secret", "bob": "bob-secret", "root": "root-secret", "张三": "张三的密码", "li,si": "comma-secret"}

# "allow bind_anon_dn": a name with an empty password binds anonymously, and succeeds (as some Active
# Directory setups do) — only Yandu's own check stands between an empty password and a sign-in.
CONFIG = """allow bind_anon_dn
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "cn=admin,{suffix}"
rootpw admin-secret
directory {dir}/db
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
"""


def escape_dn_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,")


def ldif() -> str:
    parts = [f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Yandu\ndc: yandu\n",
             f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
             f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n"]
    for uid, password in USERS.items():
        parts.append(f"dn: uid={escape_dn_value(uid)},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\n"
                     f"sn: {uid}\nuserPassword: {password}\n")
    dn = {uid: f"uid={escape_dn_value(uid)},{PEOPLE}" for uid in USERS}
    parts.append(f"dn: cn=jijian,{GROUPS}\nobjectClass: groupOfNames\ncn: jijian\nmember: {dn['alice']}\n"
                 f"member: {dn['张三']}\n")
    parts.append(f"dn: cn=Yandu Admins,{GROUPS}\nobjectClass: groupOfUniqueNames\ncn: Yandu Admins\n"
                 f"uniqueMember: {dn['root']}\n")
    parts.append(f"dn: cn=office,{GROUPS}\nobjectClass: posixGroup\ncn: office\ngidNumber: 5000\nmemberUid: alice\n"
                 f"memberUid: li,si\n")
    parts.append(f"dn: cn=everyone-else,{GROUPS}\nobjectClass: groupOfNames\ncn: everyone-else\nmember: {dn['bob']}\n")
    # a group that names "*" literally: a filter built without escaping would match everyone
    parts.append(f"dn: cn=star,{GROUPS}\nobjectClass: posixGroup\ncn: star\ngidNumber: 5001\nmemberUid: nobody\n")
    return "\n".join(parts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slapd")
    (folder / "db").mkdir()
    (folder / "slapd.conf").write_text(CONFIG.format(dir=folder, suffix=SUFFIX))
    (folder / "data.ldif").write_text(ldif(), encoding="utf-8")
    url = f"ldap://127.0.0.1:{free_port()}"
    log = open(folder / "slapd.log", "wb")
    server = subprocess.Popen([SLAPD, "-d", "0", "-h", url + "/", "-f", str(folder / "slapd.conf")],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            added = subprocess.run([LDAPADD, "-x", "-H", url, "-D", f"cn=admin,{SUFFIX}", "-w", "admin-secret",
                                    "-f", str(folder / "data.ldif")], capture_output=True, text=True)
            if added.returncode == 0:
                break
            if server.poll() is not None:
                pytest.fail(f"slapd exited: {(folder / 'slapd.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        else:
            pytest.fail(f"could not load the directory: {added.stderr}")
        yield url
    finally:
        server.kill()
        server.wait()
        log.close()


@pytest.fixture
def directory(slapd):
    return LdapDirectory(slapd, f"uid={{user}},{PEOPLE}", group_base=GROUPS, admin_group="yandu admins")


def test_right_password_gives_the_user_and_all_three_kinds_of_group(directory):
    assert directory.authenticate("alice", "alice-secret") == LdapUser("alice", frozenset({"jijian", "office"}), False)
    assert directory.authenticate("root", "root-secret") == LdapUser("root", frozenset({"Yandu Admins"}), True)
    assert directory.authenticate("张三", "张三的密码") == LdapUser("张三", frozenset({"jijian"}), False)
    # a name that needs escaping in the DN is escaped, not refused
    assert directory.authenticate("li,si", "comma-secret") == LdapUser("li,si", frozenset({"office"}), False)


@pytest.mark.parametrize("user,password", [
    ("alice", "wrong"), ("alice", "alice-secret "), ("alice", ""), ("alice", None), ("nobody", "alice-secret"),
    ("", "alice-secret"), ("*", "alice-secret"), ("*", ""), ("a)(uid=*", "alice-secret"), ("alice)(|(uid=*", "x"),
    ("alice,ou=people", "alice-secret"), ("uid=alice", "alice-secret"), ("\\2a", "alice-secret"),
])
def test_wrong_empty_unknown_and_injected_are_refused(directory, user, password):
    assert directory.authenticate(user, password) is None


def test_admin_group_by_dn_and_without_groups(slapd):
    by_dn = LdapDirectory(slapd, f"uid={{user}},{PEOPLE}", GROUPS, admin_group=f"CN=Yandu Admins, {GROUPS.upper()}")
    assert by_dn.authenticate("root", "root-secret").admin and not by_dn.authenticate("alice", "alice-secret").admin
    bare = LdapDirectory(slapd, f"uid={{user}},{PEOPLE}")  # no group base: a bind, no search
    assert bare.authenticate("alice", "alice-secret") == LdapUser("alice", frozenset(), False)


def test_sign_in_through_the_store_maps_groups_to_grants(tmp_path, slapd):
    directory = LdapDirectory.from_settings(Settings(ldap_url=slapd, ldap_user_dn=f"uid={{user}},{PEOPLE}",
                                                     ldap_group_base=GROUPS, ldap_admin_group="Yandu Admins"))
    store = AccessStore(tmp_path / "access.sqlite", hasher=PasswordHasher.from_parameters(profiles.CHEAPEST))
    store.add_group("JiJian")
    store.add_group("office")
    store.grant("jijian", "reader", group="jijian")
    store.grant("jijian", "editor", group="office")
    store.grant("default", "reader", group="office")
    assert store.authenticate("alice", "alice-secret", directory) == Principal(
        "alice", groups=frozenset({"JiJian", "office"}), bases=(("default", "reader"), ("jijian", "editor")),
        source="ldap")
    assert store.authenticate("张三", "张三的密码", directory).bases == (("jijian", "reader"),)
    root = store.authenticate("root", "root-secret", directory)
    assert root.admin and root.source == "ldap" and root.may("edit", "anything")
    assert store.authenticate("alice", "wrong", directory) is None
    assert store.authenticate("*", "alice-secret", directory) is None
    # an LDAP-only account row adds the store's own memberships; a local password wins over LDAP
    store.add_user("bob")
    store.add_member("office", "bob")
    assert store.authenticate("bob", "bob-secret", directory).groups == {"office", "everyone-else"}
    store.add_user("alice", "local-password")
    assert store.authenticate("alice", "alice-secret", directory) is None
    assert store.authenticate("alice", "local-password", directory).source == "local"
    assert LdapDirectory.from_settings(Settings()) is None


def test_a_server_that_is_down_or_silent_is_one_line(tmp_path):
    down = LdapDirectory(f"ldap://127.0.0.1:{free_port()}", f"uid={{user}},{PEOPLE}", GROUPS, timeout=2)
    with pytest.raises(LdapUnavailable) as e:
        down.authenticate("alice", "alice-secret")
    assert "\n" not in str(e.value) and "LDAP" in str(e.value) and "无法连接" in str(e.value)
    assert down.authenticate("alice", "") is None  # refused before any connection
    # a server that accepts the connection and never answers: the timeout, then the same line
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        held = []
        threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
        silent = LdapDirectory(f"ldap://127.0.0.1:{listener.getsockname()[1]}", f"uid={{user}},{PEOPLE}", timeout=1)
        with pytest.raises(LdapUnavailable) as e:
            silent.authenticate("alice", "alice-secret")
        assert "\n" not in str(e.value)
        for conn, _ in held:
            conn.close()
    store = AccessStore(tmp_path / "access.sqlite", hasher=PasswordHasher.from_parameters(profiles.CHEAPEST))
    with pytest.raises(LdapUnavailable):
        store.authenticate("alice", "alice-secret", down)
