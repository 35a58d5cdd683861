"""Signing in: sessions that end, a throttle that cannot be dodged and locks out nobody else, sign-out
and restarts that end sessions on the server, a page that says what happened. Unit tests with a clock
of their own; the rest against real servers (`python app.py serve --auth …`)."""
from __future__ import annotations

import time

import httpx
import pytest

from retrieval.access import Principal
from retrieval.access.sessions import Sessions
from retrieval.access.throttle import FIRST_DELAY, NAME_FREE, SignInThrottle

ALICE = Principal("alice", admin=True, source="auth")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_ends_after_its_lifetime_and_after_idling():
    clock = Clock()
    sessions = Sessions(ttl=100, idle=30, clock=clock)
    token = sessions.open(ALICE, "10.0.0.1")
    clock.now += 25
    assert sessions.get(token) == ALICE  # a request restarts the idle clock …
    clock.now += 25
    assert sessions.get(token) == ALICE and sessions.principal_of("alice") == ALICE
    clock.now += 31
    assert sessions.get(token) is None and sessions.principal_of("alice") is None  # … idle too long: ended
    token = sessions.open(ALICE)
    for _ in range(5):
        clock.now += 20
        assert sessions.get(token) == ALICE
    clock.now += 1
    assert sessions.get(token) is None  # busy all along, but past its lifetime


def test_sign_out_ends_one_session_and_removing_a_user_all_of_theirs():
    sessions = Sessions(ttl=100, idle=100, clock=Clock())
    a, b = sessions.open(ALICE), sessions.open(ALICE)
    assert sessions.close(a) == ALICE and sessions.get(a) is None and sessions.get(b) == ALICE
    sessions.close_user("alice")
    assert sessions.get(b) is None and sessions.get(None) is None and sessions.get("guess") is None
    assert len({sessions.open(ALICE) for _ in range(50)}) == 50  # tokens are random, never derived from the user


def test_one_users_failures_never_lock_out_another_but_guessing_one_account_from_many_addresses_is_slowed():
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    for _ in range(3):
        throttle.failed("10.0.0.9", "alice")
    assert throttle.wait_left("10.0.0.9", "alice") > 0
    assert throttle.wait_left("10.0.0.9", "bob") == 0  # a colleague behind the same address signs in
    for n in range(NAME_FREE + 1):
        throttle.failed(f"10.1.0.{n}", "carol")
    assert throttle.wait_left("10.2.0.1", "carol") > 0  # carol's password guessed from many machines: slowed
    clock.now += 400
    assert throttle.wait_left("10.0.0.9", "alice") == 0  # delays end


# --- a real server ---------------------------------------------------------------------------------

PASSWORD = "s3cret-pass"


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    from test_web import Server, seed_corpus

    folder = tmp_path_factory.mktemp("signin")
    seed_corpus(folder)
    srv = Server(folder, "--auth", f"alice:{PASSWORD}").wait()
    yield srv
    srv.stop()


def post(url: str, name: str, password: str, **headers) -> httpx.Response:
    return httpx.post(url + "login", data={"username": name, "password": password}, follow_redirects=False,
                      headers={"Accept": "text/html", **headers}, timeout=30)


@pytest.mark.slow
def test_the_page_is_titled_keeps_the_name_and_shows_the_wait(signed):
    r = httpx.get(signed.url, follow_redirects=True, timeout=30)
    assert r.url.path == "/login" and "<title>研读 · 登录</title>" in r.text and "党" not in r.text
    r = post(signed.url, "mallory", "wrong-1")
    assert r.status_code == 401 and "用户名或密码不正确" in r.text and 'value="mallory"' in r.text
    r = post(signed.url, "mallory", "wrong-2")  # too soon: refused unchecked, and the page says how long to wait
    assert r.status_code == 429 and "秒后再试" in r.text and r.headers["Retry-After"] and 'value="mallory"' in r.text


@pytest.mark.slow
def test_rotating_x_forwarded_for_does_not_escape_the_throttle(signed):
    """The header is not believed: every guess comes from the same client, and one is checked only when
    that client's wait since the last checked guess is over (1 s, doubling). Timed on the clock, not on
    how fast requests go: a loaded machine may let a wait run out between two of them."""
    sent = time.monotonic()
    assert post(signed.url, "eve", "guess-0", **{"X-Forwarded-For": "203.0.113.1"}).status_code == 401
    last, wait, refused = sent, FIRST_DELAY, 0
    for n in range(2, 12):
        sent = time.monotonic()
        r = post(signed.url, "eve", f"guess-{n}", **{"X-Forwarded-For": f"203.0.113.{n}"})
        if r.status_code == 429:
            refused += 1
            continue
        # checked: the failure before it was recorded after `last`, this one before now. A believed header
        # would make each guess a new client's first, checked at once.
        assert r.status_code == 401 and time.monotonic() - last >= wait, n
        last, wait = sent, wait * 2
    assert refused > 0


@pytest.mark.slow
def test_a_users_failures_do_not_lock_out_a_colleague_at_the_same_address(signed):
    assert post(signed.url, "bob", "wrong-password").status_code == 401
    assert post(signed.url, "bob", "wrong-password").status_code == 429
    r = post(signed.url, "alice", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/"


@pytest.mark.slow
def test_sign_out_ends_the_session_on_the_server(signed):
    r = post(signed.url, "alice", PASSWORD)
    cookies = dict(r.cookies)
    http = httpx.Client(base_url=signed.url, cookies=cookies, timeout=30)
    assert http.get("config").status_code == 200 and http.get("whoami").json()["name"] == "alice"
    assert http.get("logout", follow_redirects=False).status_code == 303
    replay = httpx.Client(base_url=signed.url, cookies=cookies, timeout=30)  # the old cookie, sent again
    assert replay.get("config").status_code == 401
    assert replay.post("gradio_api/queue/join", json={}).status_code == 401
    assert replay.get("", follow_redirects=False).headers["location"] == "/login"


@pytest.mark.slow
def test_a_restart_signs_everyone_out(signed):
    from test_web import Server

    cookies = dict(post(signed.url, "alice", PASSWORD).cookies)
    assert httpx.get(signed.url + "config", cookies=cookies, timeout=30).status_code == 200
    again = Server(signed.folder, "--auth", f"alice:{PASSWORD}").wait()  # a second process on the same folders
    try:
        assert httpx.get(again.url + "config", cookies=cookies, timeout=30).status_code == 401
    finally:
        again.stop()


@pytest.mark.slow
def test_a_named_proxys_forwarded_address_is_believed(tmp_path, monkeypatch):
    from test_web import Server, seed_corpus

    seed_corpus(tmp_path)
    monkeypatch.setenv("YANDU_TRUSTED_PROXIES", "127.0.0.1")
    srv = Server(tmp_path, "--auth", f"alice:{PASSWORD}").wait()
    try:
        assert post(srv.url, "dave", "guess-1", **{"X-Forwarded-For": "198.51.100.1"}).status_code == 401
        # another client behind the proxy, the same name: its own record (the name's is still under NAME_FREE)
        assert post(srv.url, "dave", "guess-2", **{"X-Forwarded-For": "198.51.100.2"}).status_code == 401
        assert post(srv.url, "dave", "guess-3", **{"X-Forwarded-For": "198.51.100.2"}).status_code == 429
    finally:
        srv.stop()
