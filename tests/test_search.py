"""Hybrid retrieval on the real seed reports: quality floors, intent, filters, list answers."""
import json
import os
import shutil
import subprocess
import sys

from pathlib import Path

import pytest

from retrieval.eval import score
from retrieval.ingest.roles import cues, paragraph_roles
from retrieval.search.question import intent, quantity_unit
from retrieval.text import normalize_question

from conftest import BENCH, BLIND_QUESTIONS, CORPUS, DEV_QUESTIONS, GOV_DEV_QUESTIONS, ROOT, load_jsonl


# Floors a little under what is measured (hit@1, hit@5, MRR, items@3):
SEED_FLOORS = {"hit@1": 0.90, "hit@5": 0.95, "mrr@10": 0.93, "items@3": 0.95}  # dev, seed corpus: 1.0 / 1.0 / 1.0 / 1.0 (learned ranker)
# …and over the seeds + all of bench (116 reports):
DISTRACTOR_FLOORS = {"hit@1": 0.85, "hit@5": 0.95, "mrr@10": 0.90, "items@3": 0.95}  # dev: 0.90 / 1.0 / 0.938 / 1.0
GOV_FLOORS = {"hit@1": 0.88, "hit@5": 0.95, "mrr@10": 0.92, "items@3": 0.95}  # gov_dev: 0.933 / 0.983 / 0.957 / 1.0
BLIND_FLOORS = {"hit@1": 0.78, "hit@5": 0.90, "mrr@10": 0.84, "items@3": 0.75}  # blind set: 0.80 / 0.925 / 0.866 / items@3 party 1.0, gov 0.875


def meets(m: dict, floors: dict) -> None:
    below = {k: (m[k], floor) for k, floor in floors.items() if m[k] < floor}
    assert not below, below  # metric: (measured, floor)
    assert m["noise_rate"] == 0


def scores(app, questions, top_k=10):
    results = [{"id": q["id"], "passages": [p.to_json() for p in app.search(q["question"], top_k).passages]}
               for q in questions]
    return score(questions, results)[0]


@pytest.mark.slow
def test_quality_floors_on_the_seed_corpus(seed_app):
    meets(scores(seed_app, load_jsonl(DEV_QUESTIONS)), SEED_FLOORS)


def test_intent_reads_the_question():
    assert intent("意识形态工作存在哪些问题？") == ["problem"]
    assert intent("存在问题的原因是什么？") == ["cause"]
    assert intent("下一步如何加强执纪监督？") == ["plan"]
    assert intent("主题教育读书班是怎么组织的？") == ["highlight", "work"]
    assert intent("召开了多少次党组会？") == []
    assert quantity_unit("召开了多少次党组会？") == "次"
    assert quantity_unit("意识形态工作存在哪些问题？") is None


def test_question_normalisation_full_width_and_traditional():
    assert normalize_question("  意識形態工作存在哪些問題？ ") == "意识形态工作存在哪些问题?"
    assert normalize_question("ＸＸ单位（２０２３）") == "xx单位(2023)"


@pytest.mark.slow
def test_traditional_question_finds_the_same_passage(seed_app):
    simplified = seed_app.search("意识形态工作存在哪些问题？", 3).passages
    traditional = seed_app.search("意識形態工作存在哪些問題？", 3).passages
    assert [(p.source, p.start, p.end) for p in traditional] == [(p.source, p.start, p.end) for p in simplified]


@pytest.mark.slow
def test_problem_question_prefers_problem_sections_and_says_why(seed_app):
    top = seed_app.search("意识形态工作存在哪些问题？", 5).passages
    assert top[0].section == "二、存在问题 › （二）意识形态工作还需要加强。"
    assert top[0].why.role is True and top[0].why.roles_asked == ["problem"]
    assert top[0].why.dense_rank and top[0].why.keyword_rank


@pytest.mark.slow
def test_list_answer_is_one_whole_section(seed_app):
    top = seed_app.search("2023年的工作思路是什么？", 3).passages[0]
    assert top.section == "三、2023年工作思路" and top.section_type == "plan"
    assert all(x in top.text for x in ("一是", "二是", "三是"))
    assert len(top.text) <= 800


@pytest.mark.slow
def test_a_closing_paragraph_on_shortcomings_is_shown_alone_not_inside_its_section(seed_app):
    # 002 names its shortcomings only in its closing paragraph, under the last work heading (四、…).
    top = seed_app.search("市局党组书记抓党建还有哪些不足？", 5, section_types=["problem"]).passages[0]
    assert top.source.startswith("002_") and top.text.startswith("过去一年，虽然有成绩")
    assert "坚持严的主基调不动摇" not in top.text and top.section_type == "problem"  # the work items stay out
    work = seed_app.search("党风廉政建设采取了哪些措施？", 5, reports=[top.source]).passages[0]
    assert work.section == "四、坚持严管厚爱，加强党风廉政建设。" and "过去一年，虽然有成绩" not in work.text


@pytest.mark.slow
def test_a_passage_and_its_section_never_both_appear(seed_app):
    for q in load_jsonl(DEV_QUESTIONS):
        passages = seed_app.search(q["question"], 10).passages
        spans = [(p.source, p.start, p.end) for p in passages]
        for i, (s, a, b) in enumerate(spans):
            for t, c, d in spans[i + 1:]:
                assert s != t or b <= c or d <= a, (q["id"], spans)


@pytest.mark.slow
def test_filters_by_report_year_and_section_type(seed_app):
    only_plan = seed_app.search("党建工作", 10, section_types=["plan"]).passages
    # a plan section, under a heading naming the plan ("存在的问题及下一步打算"), or a passage whose own
    # paragraphs state it ("下一步，我们将…")
    assert only_plan and all("plan" in {p.section_type, *cues(p.section), *paragraph_roles(p.text)} for p in only_plan)
    one = next(CORPUS.glob("004_*.txt")).name
    only_004 = seed_app.search("党建工作", 10, reports=[one]).passages
    assert only_004 and {p.source for p in only_004} == {one}
    only_2022 = seed_app.search("党建工作", 10, years=[2022]).passages
    assert only_2022 and {p.year for p in only_2022} == {2022}
    nothing = seed_app.search("党建工作", 10, years=[1999])
    assert nothing.passages == [] and nothing.message


@pytest.mark.slow
def test_nothing_relevant_gets_a_clear_message(seed_app):
    result = seed_app.search("How do I bake sourdough bread?", 5)
    assert result.passages == [] and "没有找到" in result.message
    assert seed_app.search("   ", 5).message == "请输入问题。"


@pytest.mark.slow
def test_eval_command_agrees_with_the_shared_scorer(seed_app, tmp_path):
    """`app.py eval` prints the same numbers as query --batch piped into ../shared/eval/score.py."""
    s = seed_app.settings
    common = ["--corpus", str(s.corpus_dir), "--index-dir", str(s.index_dir)]
    out = subprocess.run([sys.executable, str(ROOT / "app.py"), "eval", str(DEV_QUESTIONS), *common],
                         capture_output=True, text=True, check=True).stdout
    table = json.loads(out.strip().splitlines()[-1].removeprefix("json: "))[DEV_QUESTIONS.stem]["party"]
    table = {system: halves["all"] for system, halves in table.items()}
    results = tmp_path / "results.jsonl"
    with open(results, "w") as f:
        subprocess.run([sys.executable, str(ROOT / "app.py"), "query", "--batch", str(DEV_QUESTIONS), "--top-k", "10",
                        "--json", *common], stdout=f, check=True)
    scored = subprocess.run([sys.executable, str(DEV_QUESTIONS.parent / "score.py"), str(DEV_QUESTIONS), str(results)],
                            capture_output=True, text=True, check=True).stdout
    assert json.loads(scored.splitlines()[0]) == table["yandu"]
    assert table["yandu"]["noise_rate"] == 0 < table["generic RAG"]["noise_rate"]
    assert table["yandu"]["items@3"] >= table["generic RAG"]["items@3"]


@pytest.fixture(scope="module")
def distractor_app(tmp_path_factory):
    if not BENCH.exists():
        pytest.skip("../shared/bench is not present")
    from retrieval.config import Settings
    from retrieval.engine import Yandu

    # YANDU_TEST_BENCH_DIR keeps the corpus copy and its index between runs (the first build embeds
    # ~5 200 passages); by default both live in a temporary folder.
    kept = os.environ.get("YANDU_TEST_BENCH_DIR")
    root = Path(kept) if kept else tmp_path_factory.mktemp("distractors")
    corpus = root / "corpus"
    if not corpus.exists():
        shutil.copytree(CORPUS, corpus)
        for path in BENCH.rglob("*"):
            if path.suffix in (".txt", ".docx"):
                shutil.copy(path, corpus / path.name)
    app = Yandu(Settings().with_overrides(corpus_dir=corpus, index_dir=root / "index"))
    report = app.index()
    assert not report.errors, report.errors
    return app


@pytest.mark.slow
def test_quality_floor_with_the_benchmark_reports_as_distractors(distractor_app):
    meets(scores(distractor_app, load_jsonl(DEV_QUESTIONS)), DISTRACTOR_FLOORS)


@pytest.mark.slow
def test_government_questions_among_many_look_alike_reports(distractor_app):
    """Right province, right year, right part of the report: gov_dev over the seeds + all of bench."""
    meets(scores(distractor_app, load_jsonl(GOV_DEV_QUESTIONS)), GOV_FLOORS)


@pytest.mark.slow
def test_blind_questions_never_tuned_on(distractor_app):
    """Questions written without sight of the ranking: what unseen questions get."""
    meets(scores(distractor_app, load_jsonl(BLIND_QUESTIONS)), BLIND_FLOORS)


@pytest.mark.slow
def test_off_topic_question_is_flagged(distractor_app):
    result = distractor_app.search("量子计算机的工作原理是什么？", 5)
    assert result.passages == [] or "相关度较低" in result.message


@pytest.mark.slow
def test_scores_fall_with_rank(seed_app):
    for q in load_jsonl(DEV_QUESTIONS):
        shown = [p.score for p in seed_app.search(q["question"], 10).passages]
        assert shown == sorted(shown, reverse=True), q["id"]


@pytest.mark.slow
def test_list_completion_only_for_lists_and_never_demotes_the_best(seed_app):
    from retrieval.search import Searcher

    plain = Searcher(seed_app.settings.with_overrides(list_completion=False), seed_app.encoder)
    for q in load_jsonl(DEV_QUESTIONS):
        best = plain.search(q["question"], 10).passages[0]
        top = seed_app.search(q["question"], 10).passages[0]
        assert top.source == best.source and top.start <= best.start and best.end <= top.end, q["id"]


@pytest.mark.slow
def test_narrow_filters_keep_every_qualifying_passage(seed_app):
    one = next(CORPUS.glob("004_*.txt")).name
    result = seed_app.search("存在哪些问题？", 5, reports=[one], section_types=["problem"])
    assert result.passages and result.passages[0].section_type == "problem"
    plans = seed_app.search("下步打算", 10, years=[2022], section_types=["plan"])
    assert len({p.source for p in plans.passages}) == 2 and "相关度较低" not in plans.message


@pytest.mark.slow
def test_relative_years_count_from_the_newest_report_of_the_unit_or_kind_of_unit_named(seed_app):
    from retrieval.search.searcher import anchor_year, understood

    snap = seed_app.searcher.snapshot()
    assert snap.newest_year == 2023

    def anchor(question):
        text = normalize_question(question)
        return anchor_year(snap, text, understood(text, snap.newest_year, snap.unit_names))

    assert anchor("明年抓党建准备从哪几方面入手？") is None  # no unit named: each report's own next year
    plans = [p for p in seed_app.search("明年抓党建准备从哪几方面入手？", 10).passages if p.section_type == "plan"]
    assert {p.source[:3] for p in plans} >= {"003", "004"} and all(p.why.year for p in plans)  # 2022's plans for 2023 too
    # 县 and 局 are named: only the 2022 县局支部书记's report (003) is about both
    assert anchor("县局支部书记明年抓党建准备从哪几方面入手？") == 2022
    assert anchor("县局支部书记抓党建有哪些做法？") == 2023  # no relative year: nothing to anchor
    top = seed_app.search("县局支部书记明年抓党建准备从哪几方面入手？", 3).passages[0]
    assert top.source.startswith("003_") and top.section_type == "plan" and top.data_years == (2023, 2023)
    # why: the report is about every kind named (003 speaks of its 县 and 局), or about others only (004)
    why = {p.source[:3]: p.why for p in seed_app.search("县局支部书记明年抓党建准备从哪几方面入手？", 10).passages}
    assert why["003"].unit_type and not why["003"].other_unit_type
    assert why["004"].other_unit_type and not why["004"].unit_type


@pytest.mark.slow
def test_query_command_quotes_the_direct_answer_above_the_passages(seed_app, capsys):
    """`app.py query` gives the web chat's direct answer: a figure sentence, or numbered items, each
    citing its passage's rank; --json carries it as "direct"; no answer, no heading."""
    import app

    s = seed_app.settings
    common = ["--corpus", str(s.corpus_dir), "--index-dir", str(s.index_dir), "--top-k", "3"]
    assert app.main(["query", "全年发展了多少名党员？", *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "直接回答：" and "全年发展党员3名" in lines[1] and lines[1].endswith(" [1]")
    assert lines[3].startswith("[1] ")  # the passages follow, the cited one first
    assert app.main(["query", "意识形态工作存在哪些问题？", *common]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "直接回答：" and out[1].startswith("  1. 一是") and out[2].startswith("  2. 二是")
    assert app.main(["query", "全年发展了多少名党员？", "--json", *common]) == 0
    direct = json.loads(capsys.readouterr().out)["direct"]
    assert direct["kind"] == "figure" and direct["quotes"][0]["rank"] == 1
    assert app.main(["query", "党建工作有什么特色？", *common]) == 0
    assert "直接回答" not in capsys.readouterr().out
