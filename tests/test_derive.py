"""Questions derived from the structure of reports (retrieval/eval/derive.py): unit tier, no model."""
import re
import shutil

import pytest

from retrieval.eval.derive import derive_questions, parse_corpus, report_name, templates, topic_of
from retrieval.eval.derive import main as derive_main
from retrieval.eval.metrics import norm
from retrieval.eval.questions import genre_of
from retrieval.ingest.chunker import ITEM
from retrieval.text import data_rows

from conftest import CORPUS

KINDS = {"problem", "cause", "plan", "measure", "result", "fact", "fact_rate"}
SLOTS = {"who", "report", "topic", "subject", "measure"}


@pytest.fixture(scope="module")
def seed_questions():
    return derive_questions(CORPUS)


@pytest.fixture(scope="module")
def seed_docs():
    return {d.source: d for d in parse_corpus(CORPUS)}


def test_templates_file_is_well_formed():
    rows = data_rows("question_templates.txt")
    assert all(len(r) == 3 for r in rows), "kind<TAB>genre<TAB>template, no spaces inside a template"
    for kind, genre, text in rows:
        assert kind.removesuffix("_list") in KINDS and genre in ("any", "party", "gov")
        assert set(re.findall(r"\{(\w+)\}", text)) <= SLOTS and text.endswith("？")
        assert "{who}" in text or "{report}" in text, "every question points at its report"
    for kind in ("problem", "problem_list", "cause", "plan", "plan_list", "measure", "result", "fact", "fact_rate"):
        assert kind in templates()
    verbs = [w for row in data_rows("heading_verbs.txt") for w in row]
    assert verbs and len(verbs) == len(set(verbs)) and all(len(v) >= 2 or v == "抓" for v in verbs)


def test_derived_questions_are_deterministic_and_capped(seed_questions):
    assert derive_questions(CORPUS) == seed_questions
    assert derive_questions(CORPUS, seed=22) != seed_questions  # the seed matters
    per_doc = {}
    for q in seed_questions:
        per_doc[q["doc"]] = per_doc.get(q["doc"], 0) + 1
    assert len(per_doc) == 5 and max(per_doc.values()) <= 8
    assert max(len(derive_questions(CORPUS, per_report=3)) for _ in range(1)) <= 15
    assert len({q["id"] for q in seed_questions}) == len(seed_questions)


def test_a_reports_questions_keep_their_ids_and_halves_when_another_report_changes(seed_questions, tmp_path):
    from retrieval.eval.run import parity
    for f in sorted(CORPUS.glob("*.txt"))[1:]:
        shutil.copy(f, tmp_path / f.name)
    first = sorted(CORPUS.glob("*.txt"))[0].name
    fewer = derive_questions(tmp_path)  # the first report gone: the others' questions are as they were
    assert fewer == [q for q in seed_questions if q["doc"] != first]
    assert all(q["id"].startswith(q["doc"] + "#") for q in seed_questions)
    halves = [parity(q, 0) for q in seed_questions if q["doc"] == first]
    assert halves[:2] == ["odd", "even"]  # each report's questions alternate between the two halves


def test_gold_spans_are_verbatim_in_their_report_only(seed_questions, seed_docs):
    texts = {name: norm(d.text) for name, d in seed_docs.items()}
    for q in seed_questions:
        assert set(q) <= {"id", "question", "kind", "genre", "doc", "gold", "items"}
        assert q["genre"] == "party" and q["kind"] in KINDS and q["gold"]
        for g in q["gold"] + q.get("items", []):
            assert g["doc"] == q["doc"]
            assert g["span"] in seed_docs[g["doc"]].text, "verbatim, not only in matching form"
            assert len(norm(g["span"])) >= 8
            assert [n for n, t in texts.items() if norm(g["span"]) in t] == [g["doc"]]
        if "items" in q:
            assert len(q["items"]) >= 2 and q["items"] == q["gold"]


def test_no_question_repeats_a_heading_and_none_names_a_file(seed_questions, seed_docs):
    for q in seed_questions:
        doc = seed_docs[q["doc"]]
        question = norm(q["question"])
        assert "txt" not in question and not re.search(r"[0-9a-f]{8}", question)
        for section in doc.walk():
            heading = norm(re.sub(r"^[（(]?[一二三四五六七八九十\d]+[）)、.]?", "", section.heading)).rstrip("。；")
            assert len(heading) < 6 or heading not in question, (q["question"], section.heading)


def test_both_roles_and_figures_are_covered(seed_questions):
    kinds = {q["kind"] for q in seed_questions}
    assert {"problem", "plan", "cause", "fact"} <= kinds
    problems = [q for q in seed_questions if q["kind"] == "problem"]
    assert any(re.search("问题|不足", q["question"]) for q in problems)
    assert all(re.search("打算|怎么做|安排", q["question"]) for q in seed_questions if q["kind"] == "plan")
    assert all("多少" in q["question"] for q in seed_questions if q["kind"] == "fact")


def test_topic_strips_markers_role_words_verdicts_and_leading_verbs():
    assert topic_of("（一）党的创新理论学习还不够系统深入。") == "党的创新理论学习"
    assert topic_of("（二）意识形态工作还需要加强。") == "意识形态工作"
    assert topic_of("二、存在问题") == ""
    assert topic_of("（三）强化执纪监督。") == "执纪监督"
    assert topic_of("一是全面落实意识形态工作责任制") == "意识形态工作责任制"
    assert not ITEM.match(topic_of("一是党员教育手段不够多"))


def test_reports_are_named_by_title_or_opening_never_by_file_name(seed_docs):
    names = {source[:3]: report_name(doc) for source, doc in seed_docs.items()}
    assert names["000"] == "党委书记抓党建述职"
    assert names["003"] == "抓党建工作情况述职"  # no title: what its opening says it is
    assert all(n and not re.search(r"\d{3}_|txt", n) for n in names.values())


def test_a_span_in_two_reports_drops_the_question(tmp_path, seed_questions):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    shutil.copy(next(CORPUS.glob("001_*.txt")), corpus / "copy_of_001.txt")
    derived = derive_questions(corpus)
    assert not any(q["doc"].startswith(("001_", "copy_of")) for q in derived)
    assert {q["question"] for q in derived if q["doc"].startswith("000_")} == \
           {q["question"] for q in seed_questions if q["doc"].startswith("000_")}


def test_genre_of_shared_reports():
    assert genre_of("001_56e93352d959f4eb.txt") in ("party", None)  # None when ../shared is absent
    assert genre_of("no_such_report.txt") is None


def test_command_writes_jsonl_and_counts(tmp_path, capsys):
    out = tmp_path / "derived.jsonl"
    assert derive_main(["--corpus", str(CORPUS), "--out", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(derive_questions(CORPUS))
    assert "party:" in capsys.readouterr().err
    assert derive_main(["--corpus", str(tmp_path / "missing")]) == 1


def test_eval_rows_are_split_by_genre_with_direct_answer_rows(tmp_path):
    from retrieval.eval import run

    gov = {"id": "b1", "question": "?", "gold": [{"doc": "1954政府工作报告_周恩来.txt", "span": "第一个五年计划"}]}
    party = {"id": "b2", "question": "?", "gold": [{"doc": "001_56e93352d959f4eb.txt", "span": "意识形态工作"}]}
    if genre_of(gov["gold"][0]["doc"]) is None:
        pytest.skip("../shared is not present")
    assert run.question_genre("blind_questions", gov) == "gov" and run.question_genre("blind_questions", party) == "party"
    assert run.question_genre("gov_dev_questions", party) == "gov"  # a public set's genre is the set's
    assert run.question_genre("derived", {**gov, "genre": "party"}) == "party"
    assert list(run.by_genre("blind_questions", [gov, party])) == ["party", "gov"]
    results = [{"id": "b1", "passages": [{"text": "第一个五年计划的基本任务"}]}, {"id": "b2", "passages": []}]
    table = {"blind": {g: {"yandu": run.split_scores(qs, results)} for g, qs in run.by_genre("blind", [gov, party]).items()}}
    answers = {"blind": {"gov": {"all": {"answers": 1, "right": 1, "precision": 1.0, "asked": 1, "coverage": 1.0},
                                 "odd": {"answers": 1, "right": 1, "precision": 1.0, "asked": 1, "coverage": 1.0}}}}
    text = run.format_table(table, tmp_path, answers)
    assert "| blind | gov | all | yandu | 1 | 1.0 |" in text and "| blind | party | all | yandu | 1 | 0.0 |" in text
    assert "| blind | gov | all | 1 | 1 | 1.0 | 1 | 1.0 |" in text and "| blind | gov | odd | 1 | 1 | 1.0 | 1 | 1.0 |" in text


def test_corpus_sets_copy_real_files_once(tmp_path):
    from retrieval.eval.run import copy_corpus

    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("一、甲", encoding="utf-8")
    (src / "sub" / "b.docx").write_bytes(b"x")
    (src / "notes.jsonl").write_text("{}", encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    (other / "c.txt").write_text("乙", encoding="utf-8")
    target = tmp_path / "corpus"
    assert copy_corpus(target, ((src, ""), (other, "web"))) == 3  # reports only, each folder's layout kept
    assert (target / "a.txt").is_file() and not (target / "a.txt").is_symlink()
    assert (target / "sub" / "b.docx").is_file() and (target / "web" / "c.txt").is_file()
    mtime = (target / "a.txt").stat().st_mtime_ns
    copy_corpus(target, ((src, ""), (other, "web")))
    assert (target / "a.txt").stat().st_mtime_ns == mtime
