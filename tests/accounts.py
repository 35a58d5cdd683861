"""The departments' accounts, as the tests set them up over two knowledge bases ``a`` and ``b``: boss (an
admin), ann (an editor of A, through the group a_staff) and bob (a reader of B), all with ``PASSWORD``."""
from __future__ import annotations

PASSWORD = "correct horse 9"
USERS = {"boss": "admin", "ann": "editor of a", "bob": "reader of b"}


def add_accounts(store) -> None:
    """The three accounts, the group and the grants, in ``store`` (an ``AccessStore``)."""
    store.add_user("boss", PASSWORD, admin=True)
    store.add_user("ann", PASSWORD)
    store.add_user("bob", PASSWORD)
    store.add_group("a_staff")
    store.add_member("a_staff", "ann")
    store.grant("a", "editor", group="a_staff")
    store.grant("b", "reader", user="bob")
