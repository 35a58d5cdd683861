"""The project's own scorer gives exactly what the scorer the project is judged with gives."""
import json
import random

import pytest

from retrieval.eval import score
from retrieval.eval.metrics import MAX_CHARS

from conftest import DEV_QUESTIONS, GOV_DEV_QUESTIONS, load_jsonl, shared_scorer

@pytest.fixture(scope="module")
def judged():
    return shared_scorer()


def synthetic_results(questions: list[dict], seed: int) -> list[dict]:
    """Passages that hit, miss, repeat, run over the length limit, carry noise or full-width forms."""
    rng = random.Random(seed)
    spans = [g["span"] for q in questions for g in q["gold"] + q.get("items", [])]
    out = []
    for q in questions:
        passages = []
        for _ in range(rng.randint(0, 12)):
            kind = rng.random()
            span = rng.choice(spans)
            if kind < 0.3:
                text = f"前文。{span}。后文"
            elif kind < 0.4:
                text = " ".join(span)  # whitespace inside the span still matches
            elif kind < 0.5:
                text = span + "甲" * MAX_CHARS  # over the limit: a miss
            elif kind < 0.6:
                text = f"##paidbegin##{span}"
            else:
                text = "无关的段落，" * rng.randint(1, 30)
            passages.append({"text": text, "source": "x.txt"})
        if rng.random() < 0.1:
            continue  # a question with no result line at all
        out.append({"id": q["id"], "passages": passages})
    return out


@pytest.mark.parametrize("path", [DEV_QUESTIONS, GOV_DEV_QUESTIONS], ids=["dev", "gov_dev"])
@pytest.mark.parametrize("seed", range(5))
def test_same_numbers_as_the_shared_scorer(judged, path, seed):
    if not path.exists():
        pytest.skip(f"{path} is not present")
    questions = load_jsonl(path)
    results = synthetic_results(questions, seed)
    assert score(questions, results) == judged.score(questions, results)


def test_a_hit_needs_the_span_inside_a_short_enough_passage():
    questions = [{"id": "q", "gold": [{"span": "发展党员3名"}], "items": [{"span": "甲"}, {"span": "乙"}]}]
    summary, ranks = score(questions, [{"id": "q", "passages": [{"text": "别的"}, {"text": "全年发展党员 3 名，甲"}]}])
    assert ranks == {"q": 1}
    assert (summary["hit@1"], summary["hit@3"], summary["mrr@10"], summary["items@3"]) == (0.0, 1.0, 0.5, 0.5)
    summary, ranks = score(questions, [{"id": "q", "passages": [{"text": "发展党员3名" + "。" * MAX_CHARS}]}])
    assert ranks == {"q": None} and summary["hit@5"] == 0.0


@pytest.mark.parametrize("name, prefix", [("SEED_QUESTIONS", "s"), ("SEED_TUNE_QUESTIONS", "st")])
def test_every_seed_question_span_is_in_its_seed_report(name, prefix):
    """The seed sets are data with a test: ids s01… (st01…), known kinds, each gold and item span in the
    text the parser keeps of the seed report it names and in no other seed, free of the seeds' noise."""
    from retrieval.ingest import parse_file
    from retrieval.eval import questions as sets

    from conftest import CORPUS

    questions = load_jsonl(getattr(sets, name))
    assert [q["id"] for q in questions] == [f"{prefix}{i:02d}" for i in range(1, len(questions) + 1)]
    assert {q["kind"] for q in questions} <= {"problem", "cause", "plan", "measure", "fact", "highlight", "paraphrase"}
    texts = {p.name: "".join(parse_file(p).text.split()) for p in CORPUS.glob("*.txt")}
    for q in questions:
        for g in q["gold"] + q.get("items", []):
            span = "".join(g["span"].split())
            assert span in texts[g["doc"]] and not any(n in span for n in ("paid", "www", "笔杆", "XX")), (q["id"], span)
            assert sum(span in text for text in texts.values()) == 1, (q["id"], span)  # in no other seed


@pytest.mark.slow  # parses all 116 reports (~12 s)
def test_every_blind_span_is_in_its_report_and_nowhere_else():
    """The blind set is data with a test: each gold and item span occurs in the report it names, and
    in no other report of the seeds + bench corpus (the scorer matches span text, not documents)."""
    from retrieval.ingest import parse_file

    from conftest import BENCH, BLIND_QUESTIONS, CORPUS

    if not BENCH.exists():
        pytest.skip("../shared/bench is not present")
    questions = load_jsonl(BLIND_QUESTIONS)
    assert [q["id"] for q in questions] == [f"h{i:02d}" for i in range(1, len(questions) + 1)]
    files = {p.name: p for p in [*CORPUS.glob("*.txt"), *BENCH.rglob("*.txt"), *BENCH.rglob("*.docx")]}
    texts = {name: "".join(parse_file(path).text.split()) for name, path in files.items()}
    for q in questions:
        for g in q["gold"] + q.get("items", []):
            span = "".join(g["span"].split())
            assert span in texts[g["doc"]], (q["id"], g["span"])
            others = [name for name, text in texts.items() if span in text and name not in {x["doc"] for x in q["gold"]}]
            assert not others, (q["id"], g["span"], others)


def test_spans_kept_by_position_read_back_as_written(tmp_path):
    """A set over party_web keeps positions, not quotes: written by point_spans, read back by load_jsonl
    to the very spans; a span whose report changed is refused, naming the report and the question."""
    from retrieval.eval.questions import PARTY_DEV_QUESTIONS, PARTY_WEB, point_spans

    if not PARTY_WEB.exists():
        pytest.skip("../shared/party_web is not present")
    questions = load_jsonl(PARTY_DEV_QUESTIONS)
    pointed = [point_spans(q) for q in questions]
    assert all("span" not in e and e["chars"] > 0 for q in pointed for e in q["gold"] + q.get("items", []))
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in pointed), encoding="utf-8")
    assert load_jsonl(path) == questions
    pointed[3]["gold"][0]["at"] += 1
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in pointed), encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{pointed[3]['gold'][0]['doc']}.*{pointed[3]['id']}"):
        load_jsonl(path)
    with pytest.raises(ValueError, match="is not in it"):
        point_spans({"id": "x", "gold": [{"doc": questions[0]["gold"][0]["doc"], "span": "不在这份报告里的一句话"}]})


@pytest.mark.parametrize("name, prefix", [("PARTY_BLIND_QUESTIONS", "pb"), ("PARTY_TUNE_QUESTIONS", "pt"),
                                          ("PARTY_TUNE2_QUESTIONS", "pq")])
def test_every_party_blind_and_tuning_span_is_in_its_report_and_nowhere_else(name, prefix):
    """The party blind and party tuning sets are data with a test: their party_web spans are kept by
    position (no quote of third-party text in the repository) and read back; each gold and item span
    is in the report it names and in no other party-building report (seeds or party_web)."""
    from retrieval.eval import questions as sets
    from retrieval.eval.questions import PARTY_WEB, SEEDS

    if not PARTY_WEB.exists():
        pytest.skip("../shared/party_web is not present")
    path = getattr(sets, name)
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    web = {p.name for p in PARTY_WEB.glob("*.txt")}
    assert all("span" not in e for q in raw for e in q["gold"] + q.get("items", []) if e["doc"] in web)
    questions = load_jsonl(path)
    assert [q["id"] for q in questions] == [f"{prefix}{i:02d}" for i in range(1, len(questions) + 1)]
    texts = {p.name: "".join(p.read_text(encoding="utf-8").split()) for p in [*SEEDS.glob("*.txt"), *PARTY_WEB.glob("*.txt")]}
    for q in questions:
        for g in q["gold"] + q.get("items", []):
            span = "".join(g["span"].split())
            assert span in texts[g["doc"]], (q["id"], g["doc"])
            assert not [name for name, text in texts.items() if span in text and name != g["doc"]], q["id"]
