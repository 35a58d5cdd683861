"""Knowledge bases and who reaches them, in process: the registry, questions across bases, and every web
handler run as a reader of one base against two (real index, real account store, real sessions;
the crude hashed-bigram encoder of test_web_units stands in for the model so the tier stays fast)."""
from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest
from argon2 import PasswordHasher

from retrieval.access import AccessStore, AuditLog
from retrieval.access.sessions import Sessions
from retrieval.bases import DEFAULT, BaseError, Bases, split_key
from retrieval.config import Settings
from retrieval.engine import Yandu
from retrieval.web.gate import Gate, Served
from accounts import PASSWORD, add_accounts
from test_web_units import HashEncoder

A_REPORT = "甲测试局2024年党建工作总结\n一、主要工作\n甲测试局全年发展党员12名，开展红色教育活动9次。\n" \
           "二、存在问题\n甲测试局理论学习不够深入。\n"
B_REPORT = "乙测试局2023年党建工作总结\n一、主要工作\n乙测试局全年发展党员7名，开展廉政教育活动5次。\n" \
           "二、存在问题\n乙测试局制度执行不够严格。\n"


def indexed(bases: Bases, name: str, files: dict[str, str]) -> None:
    app = bases.get(name)
    app._encoder = HashEncoder()
    for file, text in files.items():
        (app.settings.corpus_dir / file).write_text(text, encoding="utf-8")
    app.index()


@pytest.fixture
def two_bases(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings().with_overrides(corpus_dir=corpus, index_dir=tmp_path / "index", bases_dir=tmp_path / "bases")
    bases = Bases(settings)
    bases.create("a", "甲知识库")
    bases.create("b", "乙知识库")
    indexed(bases, DEFAULT, {"丙.txt": "丙测试局2022年工作总结\n一、主要工作\n丙测试局全年发展党员3名。\n"})
    indexed(bases, "a", {"甲测试局.txt": A_REPORT})
    indexed(bases, "b", {"乙测试局.txt": B_REPORT})
    return bases


def test_bases_are_created_renamed_deleted_to_the_trash_and_restored(tmp_path):
    bases = Bases(Settings().with_overrides(bases_dir=tmp_path / "bases"))
    assert bases.names() == [DEFAULT]
    info = bases.create("jijian", "纪检监察室")
    assert bases.names() == [DEFAULT, "jijian"] and info.corpus_dir == tmp_path / "bases" / "jijian" / "corpus"
    for bad in ("Jijian", "1abc", "a/b", "../x", "default", "", "a" * 33, "jijian"):
        with pytest.raises(BaseError):
            bases.create(bad, "x")
    assert bases.rename("jijian", "纪检监察 室").title == "纪检监察 室"
    with pytest.raises(BaseError):
        bases.rename("jijian", "x" * 41)
    with pytest.raises(BaseError):
        bases.delete(DEFAULT)
    (info.corpus_dir / "r.txt").write_text("报告", encoding="utf-8")
    gone = bases.delete("jijian")
    assert bases.names() == [DEFAULT] and (gone / "corpus" / "r.txt").exists()  # nothing lost
    with pytest.raises(BaseError):
        bases.info("jijian")
    [entry] = bases.trash()
    assert entry["name"] == "jijian" and entry["title"] == "纪检监察 室"
    assert bases.restore(entry["entry"]).title == "纪检监察 室" and (info.corpus_dir / "r.txt").exists()


def test_each_base_has_its_own_index_and_milvus_collections(tmp_path):
    settings = Settings().with_overrides(bases_dir=tmp_path / "bases", index_dir=tmp_path / "index")
    bases = Bases(settings)
    bases.create("a")
    a = bases.settings_of("a")
    assert a.index_dir == tmp_path / "bases" / "a" / "index" and a.milvus_collection == "yandu_a"
    assert bases.settings_of(DEFAULT) is settings


def test_a_question_across_bases_merges_their_rankings_by_score(two_bases):
    alone = {b: two_bases.get(b).search("全年发展党员多少名", 5).passages for b in ("a", "b")}
    merged = two_bases.search("全年发展党员多少名", ["a", "b"], 10).passages
    assert [p.rank for p in merged] == list(range(1, len(merged) + 1))
    assert [p.score for p in merged] == sorted((p.score for p in merged), reverse=True)
    for p in merged:  # the same scores each base gives alone
        assert p.score in [q.score for q in alone[p.base] if (q.source, q.start) == (p.source, p.start)]
    assert {p.base for p in two_bases.search("发展党员", ["b"], 10).passages} == {"b"}
    assert {p.base for p in two_bases.search("发展党员", ["a", "b"], 10, ["b/乙测试局.txt"]).passages} == {"b"}
    assert two_bases.scope(["a", "b", "nope"], ["a/甲测试局.txt", "x.txt"]) == {"a": ["甲测试局.txt", "x.txt"],
                                                                              "b": ["x.txt"]}
    assert split_key("a/甲.txt") == ("a", "甲.txt") and split_key("甲.txt") == (None, "甲.txt")


@pytest.fixture
def web_as(two_bases, tmp_path):
    """The web app with sign-in on: an admin, an editor of A (through a group), a reader of B."""
    from retrieval.web.handlers import WebApp

    audit = AuditLog(tmp_path / "bases" / "audit.sqlite")
    store = AccessStore(tmp_path / "bases" / "access.sqlite", audit=audit,
                        hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    add_accounts(store)
    sessions = Sessions(3600, 3600)
    web = WebApp(two_bases.get(DEFAULT), gate=Gate(sessions, store, audit), bases=two_bases)

    def request(name):
        if name:
            sessions.open(store.authenticate(name, PASSWORD), "127.0.0.1")
        return SimpleNamespace(username=name, client=SimpleNamespace(host="127.0.0.1"), session_hash=f"s-{name}")

    return web, request, audit


def test_a_reader_of_b_reaches_nothing_of_a_through_any_handler(web_as):
    web, request, _ = web_as
    bob = request("bob")
    assert web.visible(bob) == ["b"] and web.editable(bob) == []
    texts = [str(web.status(bob)), str(web.api_status(bob)), str(web.library_rows(request=bob)),
             str(web.api_library(bob)), str(web.api_search("发展党员", 10, [], [], [], [], request=bob)),
             str(web.api_search("发展党员", 10, [], [], [], ["a"], request=bob)),  # asking for A: B only (A is not named back)
             str(web.api_compare("存在哪些问题", [], [], [], ["a", "b"], request=bob)),
             str(web.outline("a/甲测试局.txt", bob)), str(web.side_updates(None, None, bob)),
             str(web.refresh(None, bob))]
    texts += [str(frame) for frame in web.chat("发展党员多少名", [], 5, [], [], [], ["a"], request=bob)]
    for text in texts:
        assert "甲测试局" not in text.replace("甲测试局.txt", "")  # the name typed may be said back
    # a conversation forged in the browser's storage: a citation of A's passage opens nothing
    forged = [{"question": "q", "answer": "", "passages": [{"rank": 1, "source": "甲测试局.txt", "base": "a",
                                                            "start": 0, "end": 40, "text": ""}]}]
    context, download = web.cited("0-1", forged, bob)
    assert "甲测试局" not in str(context) and download["value"] is None
    for call in (lambda: web.api_outline("a/甲测试局.txt", bob), lambda: web.remove_report("a/甲测试局.txt", bob),
                 lambda: web.reindex_report("a/甲测试局.txt", bob), lambda: web.restore_report("x", "a", bob),
                 lambda: web.api_add_reports([], "a", bob), lambda: web.rebuild(None, None, False, ["a"], bob)):
        with pytest.raises(gr.Error):
            call()
    refusals = []
    for key in ("a/甲测试局.txt", "a/没有这份.txt", "nope/甲测试局.txt"):
        with pytest.raises(gr.Error) as refused:
            web.api_outline(key, bob)
        refusals.append(refused.value.message.replace(key.rsplit("/", 1)[1], "X"))
    assert len(set(refusals)) == 1, refusals  # A's report, a made-up one, a made-up base: refused alike


def test_a_visitor_without_a_session_reaches_nothing(web_as):
    web, request, _ = web_as
    nobody, stranger = request(None), SimpleNamespace(username="mallory", client=None, session_hash="x")
    for who in (nobody, stranger, None):
        assert web.visible(who) == [] and web.status(who)["documents"] == []
        with pytest.raises(gr.Error):
            web.api_search("发展党员", 5, request=who)


def test_an_editor_of_a_changes_a_only_and_the_audit_log_holds_it(web_as, tmp_path):
    web, request, audit = web_as
    ann = request("ann")
    new = tmp_path / "甲测试局2025.txt"
    new.write_text(A_REPORT.replace("2024", "2025").replace("12名", "15名"), encoding="utf-8")
    with pytest.raises(gr.Error):
        web.api_add_reports([str(new)], "b", ann)
    assert [f["outcome"] for f in web.api_add_reports([str(new)], "a", ann)["files"]] == ["added"]
    with pytest.raises(gr.Error):
        web.remove_report("b/乙测试局.txt", ann)
    assert web.remove_report("a/甲测试局2025.txt", ann)["trashed"].startswith(".trash/")
    list(web.chat("发展党员多少名", [], 5, [], [], [], [], request=ann))
    done = {(e.user, e.action, e.base) for e in audit.entries()}
    assert {("ann", "add", "a"), ("ann", "delete", "a"), ("ann", "ask", "a")} <= done


def test_a_revoked_grant_takes_effect_at_once(web_as):
    web, request, _ = web_as
    bob = request("bob")
    later = SimpleNamespace(**vars(bob))  # bob's next request (the principal is resolved once per request)
    assert web.visible(bob) == ["b"]
    web.gate.store.revoke("b", user="bob")
    assert web.visible(later) == []


def test_files_handed_out_are_served_only_to_readers_of_their_bases(tmp_path):
    from gradio.processing_utils import hash_file

    served = Served()
    f = tmp_path / "原文.txt"
    f.write_text("甲测试局", encoding="utf-8")
    served.grant(f, "a")
    key = hash_file(f)
    assert served.bases_of(f"/gradio_api/file=/tmp/gradio/{key}/原文.txt") == (frozenset({"a"}), "原文.txt")
    assert served.bases_of("/gradio_api/file=/tmp/gradio/other/x.txt") is None
