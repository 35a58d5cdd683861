"""Questions derived from the structure of reports, in users' words, with verbatim gold spans.

    derive_questions(corpus_dir: Path, per_report: int = 8, seed: int = 21) -> list[dict]

Every report of ``corpus_dir`` is parsed by the project's own pipeline (``ingest.parse_file``:
sections, heading ladder, items 一是/二是, roles, unit, year, kind). A 存在问题 / 原因 / 下步打算 /
成效·做法 section, or one of its items, becomes a question from ``data/question_templates.txt``
("…在<topic>方面存在哪些问题？"); a sentence stating a figure becomes "…<subject>多少<measure>？".
The report is named as a user names it — unit, year and kind from its parsed title and metadata,
never its file name — and the topic is the heading's subject with its role words, markers and
leading verbs stripped (jieba), so no question repeats a heading verbatim.

Each question: ``{"id", "question", "kind", "genre", "doc", "gold": [{"doc", "span"}], "items"?}``
(the scorer format of ``../shared/eval``; ``items`` for questions about a whole list). Gold spans
are verbatim from the report's cleaned text, ≥ 8 characters, inside one of its passages; a question
any of whose spans also occurs in another report of the corpus is dropped. Sampling is seeded per
report (same corpus, same questions), at most ``per_report`` questions a report, kinds taken in
turn, so a long government report weighs what a short party-building report weighs.

Genre: ``gov`` for the reports of ``../shared/bench`` (else a 政府工作报告), ``party`` otherwise.
Derived questions over ``../shared/party_web`` are third-party data: write them to a cache or temp
folder, never into the repository.

    python -m retrieval.eval.derive --corpus DIR [--out FILE] [--per-report 8] [--seed 21]
"""
from __future__ import annotations

import argparse
import bisect
import json
import logging
import random
import re
import sys
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jieba.posseg

from ..errors import ReadError
from ..ingest import Document, Section, chunk_document, corpus_files, parse_file
from ..ingest.roles import ROLE_CUES
from ..text import data_rows, normalize, unit_aliases
from .metrics import norm
from .questions import genre_of

log = logging.getLogger(__name__)

MIN_SPAN = 8  # characters (matching form) a gold span needs: shorter ones occur anywhere
MAX_SPAN = 60  # a gold span is the start of its item or sentence, at most this long
# Questions drawn per report. 12 measured against 8 for training (AMD EPYC, ``train-ranker``'s held-out
# folds): the party-building questions people asked fell in one deal (MRR 0.9462 → 0.9362) and the
# even-numbered ones never trained on fell (party-building hit@1 0.84 → 0.80); the government ones rose
# (0.95 → 0.97 in one deal). More questions of the templates' shape weigh the templates over people.
PER_REPORT = 8
SEED = 21
ROLE_KINDS = {"problem": "problem", "cause": "cause", "plan": "plan", "work": "measure", "highlight": "measure"}
RESULT_WORDS = re.compile(r"成效|成绩|成果|效果")
MARKER = re.compile(r"^\s*(?:第[一二三四五六七八九十百]+(?:部分|章|篇)?[、，,.:：\s]*|[一二三四五六七八九十百]+[、.,，]|"
                    r"[（(]\s*[一二三四五六七八九十百\d]+\s*[)）]|\d{1,2}[.、．](?!\d)|[一二三四五六七八九十]+是)\s*")
ITEM_MARK = re.compile(r"(?:^|(?<=[。；;：:\n]))\s*([一二三四五六七八九十]+是|第[一二三四五六七八九十]+[，,、]|[（(]\d{1,2}[)）]|\d{1,2}[.、．](?!\d))")
SENTENCE = re.compile(r"[^。！？!?；;\n]+")
CLAUSE = re.compile(r"[^。！？!?；;，,：:\n]+")
# What a heading says about its subject rather than the subject itself: cut there.
VERDICT = re.compile(r"还|仍|尚|依然|有待|不够|不足|不到位|不强|不高|不严|不实|不深|不力|缺乏|欠缺|需要|亟待|较为|比较|偏|弱化|滞后|薄弱")
CONNECTIVES = re.compile(r"^(?:及|和|与|的|、|之)+|(?:及|和|与|的|、|之|等|方面|情况|工作情况)+$")
NOUNISH = ("n", "vn", "nz", "nt", "ns", "an", "j", "l")
LEADING_DROP = ("v", "d", "ad", "p", "c", "u", "m", "q", "r", "f", "a", "i")
TRAILING_DROP = ("d", "ad", "p", "c", "u", "m", "q", "r", "f", "x")
FIGURE = re.compile(r"(\d+(?:\.\d+)?)(余|多)?(万|亿|千)?(个百分点|人次|名|人|次|个|项|条|家|所|场|期|篇|件|户|元|公里|亩|吨|%|％|倍|批|支|座|套)")
SUBJECT_LEAD = re.compile(r"^(?:[一二三四五六七八九十]+是|其中|同时|全年|今年|去年|年内|年初以来|累计|共计|先后|共|已|均|全部|并|还|又|积极|组织)+")
# A subject that is not what is counted: a comparison, a clause that goes on elsewhere, a placeholder.
BAD_SUBJECT = re.compile(r"^(?:较|比|对|与|向|在|从|按|结合|根据|其中|以|将|把)|(?:的|从|由|比|较|至|占)$|[、\dA-Za-zXx*×“”\"]")
SUBJECT_TAIL = re.compile(r"(?:达到|达|为|约|近|超过|超|突破|共计|共|累计|了|至|到|以上|分别|保持|稳定在|控制在)+$")
TITLE_CHROME = re.compile(r"首页|>|当前位置|下载|http|www|更新时间|作者|发布|来源|\d{1,2}:\d\d|欢迎|网站|写作网|阅读|摘要|^工作计划$|^#")
TITLE_YEAR = re.compile(r"\s*(?:19|20)\d\d\s*(?:年度|年)?\s*")
TITLE_TRIM = [(re.compile(r"【[^】]*】|^VIP\s*|[_|].*$"), ""), (re.compile(r"^关于"), ""), (re.compile(r"及(?:下一步|下步|20\d\d年|明年|今后).*$"), ""),
              (re.compile(r"[（(][^）)]*[）)]"), ""), (re.compile(r"工作述职报告$|述职报告$"), "述职"),
              (re.compile(r"的$"), "")]
OPENING_KIND = re.compile(r"现(?:将|就)(?:[^，。]{0,8}?来)?([^，。]{2,24}?)(述职|报告|汇报|总结)如下")
OPENING_ORGAN = re.compile(r"(?:^|(?<=[，。,.:：;；\s]))((?:[XＸx×*]{1,3}|(?![在对向由把将为和与据根按经通])[\u4e00-\u9fff]{0,4}?)(?:乡|镇|县|区|市|街道|社区|村|局|公司|医院|学校|大学|学院)"
                           r"(?:党委|党总支|党支部|党工委|党组|领导班子|班子|委员会|政府|机关|委)?)")
SUPERIOR = re.compile(r"^[^，。]{0,4}领导")  # "在县委的正确领导下": the organ above, not the report's


@dataclass(frozen=True)
class Template:
    kind: str
    genre: str
    text: str


@lru_cache(maxsize=1)
def templates() -> dict[str, list[Template]]:
    """Question templates by kind (data/question_templates.txt)."""
    out: dict[str, list[Template]] = {}
    for kind, genre, text in data_rows("question_templates.txt"):
        out.setdefault(kind, []).append(Template(kind, genre, text))
    return out


@lru_cache(maxsize=1)
def heading_verbs() -> tuple[str, ...]:
    """Words a heading opens with that are not its subject (data/heading_verbs.txt), longest first."""
    return tuple(sorted({w for row in data_rows("heading_verbs.txt") for w in row}, key=len, reverse=True))


@dataclass
class Candidate:
    """A question before its wording is chosen: what it asks for, about what, and its gold spans."""

    kind: str  # problem, cause, plan, measure, result, fact (the set's "kind")
    listing: bool  # asks for a whole section: every item is gold
    topic: str
    spans: list[str]
    years: tuple[int, int] | None = None
    slots: dict = field(default_factory=dict)  # subject, measure for figures


def strip_marker(heading: str) -> str:
    return MARKER.sub("", heading, count=1).strip()


def first_part(text: str, pattern: re.Pattern = SENTENCE) -> str:
    m = pattern.search(text)
    return m.group(0).strip() if m else ""


def _content(text: str) -> str:
    """A phrase without its leading verbs and function words and its trailing non-nouns (jieba)."""
    verbs = heading_verbs()
    while (lead := next((v for v in verbs if text.startswith(v) and len(text) > len(v)), None)):
        text = text[len(lead):]
    words = [(w.word, w.flag) for w in jieba.posseg.cut(text)]
    while words and words[0][1].startswith(LEADING_DROP) and not words[0][1].startswith(NOUNISH):
        words.pop(0)
    while words and words[-1][1].startswith(TRAILING_DROP):
        words.pop()
    return "".join(w for w, _ in words)


def topic_of(heading: str) -> str:
    """The subject a heading or item is about: first clause, role words and verdicts cut, leading
    verbs and function words dropped ("（一）党的创新理论学习还不够系统深入。" → "党的创新理论学习",
    "抓制度、强管理" → "制度、管理")."""
    text = unicodedata.normalize("NFKC", strip_marker(heading))
    text = first_part(text, CLAUSE)
    for pattern in ROLE_CUES.values():
        text = pattern.sub("", text)
    m = VERDICT.search(text)
    if m and m.start() >= 2:
        text = text[:m.start()]
    parts = [_content(part) for part in text.split("、")]
    topic = CONNECTIVES.sub("", "、".join(p for p in parts if p))
    return topic if 2 <= len(topic) <= 16 and not re.search(r"\d", topic) else ""


def span_at(text: str, start: int, end: int) -> str | None:
    """The verbatim span starting at ``start``: its first sentence, at most MAX_SPAN characters."""
    piece = text[start:end].lstrip()
    sentence = first_part(piece)[:MAX_SPAN].rstrip("，,、：: ")
    return sentence if len(norm(sentence)) >= MIN_SPAN else None


def own_text(doc: Document, section: Section) -> tuple[int, int]:
    """Start and end of a section's own body (children excluded)."""
    if not section.paragraphs:
        return section.body_start, section.body_start
    return section.paragraphs[0][0], section.paragraphs[-1][1]


def body_items(doc: Document, section: Section) -> list[tuple[str, str]]:
    """(label, span) of the items 一是/二是/1. in a section's own paragraphs."""
    start, end = own_text(doc, section)
    body = doc.text[start:end]
    marks = list(ITEM_MARK.finditer(body))
    out = []
    for i, m in enumerate(marks):
        stop = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        label = first_part(body[m.end(1):stop])
        span = span_at(body, m.end(1), stop)
        if span:
            out.append((label, span))
    return out if len(out) >= 2 else []


def child_span(doc: Document, child: Section) -> str | None:
    """A child section's gold span: its heading's text when long enough, else its body's first sentence."""
    heading = strip_marker(child.heading).rstrip("。；;，, ")
    if len(norm(heading)) >= MIN_SPAN:
        return heading[:MAX_SPAN]
    start, end = own_text(doc, child)
    return span_at(doc.text, start, end)


def section_candidates(doc: Document, section: Section) -> list[Candidate]:
    """Questions a section of a role gives: the whole list, each item, or the section itself."""
    kind = ROLE_KINDS.get(section.section_type)
    if not kind:
        return []
    if kind == "measure" and RESULT_WORDS.search(section.heading):
        kind = "result"
    topic = topic_of(section.heading)
    out: list[Candidate] = []
    if section.children:
        spans = [s for s in (child_span(doc, c) for c in section.children
                             if ROLE_KINDS.get(c.section_type) == ROLE_KINDS[section.section_type]) if s]
        if len(spans) >= 2:
            out.append(Candidate(kind, True, topic, spans, section.years))
    items = body_items(doc, section)
    if items:
        out.append(Candidate(kind, True, topic, [s for _, s in items], section.years))
        for label, span in items:
            item_topic = topic_of(label)
            if item_topic:
                out.append(Candidate(kind, False, item_topic, [span], section.years))
    elif not section.children and topic:
        start, end = own_text(doc, section)
        spans = [s for s in (child_span(doc, section), span_at(doc.text, start, end)) if s]
        if spans:
            out.append(Candidate(kind, False, topic, spans, section.years))
    return out


def figure_candidates(doc: Document, section: Section) -> list[Candidate]:
    """A clause of the section's own text that states a figure → "…<subject>多少<measure>？"."""
    start, end = own_text(doc, section)
    out = []
    for clause in CLAUSE.finditer(doc.text, start, end):
        m = FIGURE.search(clause.group(0))
        if not m:
            continue
        subject = SUBJECT_TAIL.sub("", SUBJECT_LEAD.sub("", clause.group(0)[:m.start()].strip()))
        if not (3 <= len(subject) <= 16) or BAD_SUBJECT.search(subject):
            continue
        span = doc.text[clause.start():clause.start() + m.end()].strip()
        if len(norm(span)) < MIN_SPAN:
            continue
        measure = m.group(4)
        rate = measure in "%％倍" or measure == "个百分点"
        slots = {"subject": subject, "measure": (m.group(3) or "") + ("" if rate else measure)}
        out.append(Candidate("fact_rate" if rate else "fact", False, "", [span], section.years, slots))
    return out


def short_unit(unit: str) -> str:
    """The name people use for a unit of data/units.txt ("浙江省" → "浙江"), else the unit."""
    for row in data_rows("units.txt"):
        if row[0] == unit:
            return row[1] if len(row) > 1 else unit
    return unit


def report_name(doc: Document) -> str | None:
    """How a user names a party-building report: its title without year, 关于, appended plans;
    for a report without a title, what its opening says it is ("现将…情况述职如下") or the organ it
    names. None when nothing names it (its questions could point at no report)."""
    title = "" if doc.title == Path(doc.source).stem or TITLE_CHROME.search(doc.title) else doc.title
    name = unicodedata.normalize("NFKC", title).strip()
    if name:
        name = TITLE_YEAR.sub("", name)
        for pattern, repl in TITLE_TRIM:
            name = pattern.sub(repl, name).strip()
    if not name:
        opening = unicodedata.normalize("NFKC", doc.text[:300])
        m = OPENING_KIND.search(opening)
        organ = next((o for o in OPENING_ORGAN.finditer(opening) if not SUPERIOR.match(opening[o.end():])
                      and not any(w.flag.startswith(("v", "p", "d")) for w in jieba.posseg.cut(o.group(1)))), None)
        if m:
            what = re.sub(r"^(?:一年来|今年以来|年初以来|本人|我|个人|全年|具体)+", "", m.group(1))
            name = what + m.group(2) if len(what) >= 4 else ""
        if organ and not (name and organ.group(1) in name):
            name = re.sub(r"^(?:我们|我|本)", "", organ.group(1)) + ("的" + name if name else "")
    return name if len(name) >= 4 else None


def cues(doc: Document, genre: str) -> dict | None:
    """{"who": callable(years) → str, "report": str} naming the report, or None."""
    if genre == "gov" and doc.year:
        report = f"{doc.year}年政府工作报告"
        if doc.unit and doc.unit != "国务院" and doc.unit in unit_aliases():
            place = short_unit(doc.unit)
            report = f"{doc.year}年{place}政府工作报告"
            return {"report": report, "who": lambda years: f"{place}{years[0]}年" if years and years[0] == years[1] else report}
        return {"report": report, "who": lambda years: report}
    name = report_name(doc)
    if not name:
        return None
    report = f"{doc.year}年{name}" if doc.year and str(doc.year) not in name else name
    return {"report": report, "who": lambda years: report}


def phrase(candidate: Candidate, naming: dict, genre: str, rng: random.Random) -> tuple[str, str] | None:
    """(question, kind) in the words of a template of the candidate's kind, or None."""
    kind = candidate.kind + ("_list" if candidate.listing else "")
    options = [t for t in templates().get(kind, []) if t.genre in ("any", genre)]
    if not candidate.topic:
        options = [t for t in options if "{topic}" not in t.text]
    if not options:
        return None
    template = rng.choice(options)
    slots = {"who": naming["who"](candidate.years), "report": naming["report"], "topic": candidate.topic,
             **candidate.slots}
    return template.text.format(**slots), candidate.kind.replace("fact_rate", "fact")


def repeats_heading(question: str, doc: Document) -> bool:
    """True when a question holds a heading of the report, or a clause of one, of 6 characters or more
    verbatim (marker and punctuation off): a question is asked in a user's words, not the report's."""
    q = normalize(question)
    for section in doc.walk():
        for clause in CLAUSE.findall(normalize(strip_marker(section.heading))):
            if len(clause.strip()) >= 6 and clause.strip() in q:
                return True
    return False


class Corpus:
    """Every report's matching text in one string, to find which reports a span occurs in."""

    def __init__(self, docs: list[Document]):
        parts, self.starts, self.names = [], [], []
        pos = 0
        for doc in docs:
            self.starts.append(pos)
            self.names.append(doc.source)
            text = norm(doc.text)
            parts.append(text + "\x00")
            pos += len(text) + 1
        self.text = "".join(parts)

    def only_in(self, span: str, source: str) -> bool:
        """The span occurs in the named report and in no other."""
        needle, found, at = norm(span), set(), 0
        while (at := self.text.find(needle, at)) >= 0:
            found.add(self.names[bisect.bisect_right(self.starts, at) - 1])
            at += 1
        return found == {source}


def report_questions(doc: Document, genre: str, corpus: Corpus, per_report: int, seed: int) -> list[dict]:
    """At most ``per_report`` questions about one report, kinds taken in turn (seeded)."""
    naming = cues(doc, genre)
    if not naming:
        log.info("%s: nothing in its title or opening names the report; no questions", doc.source)
        return []
    rng = random.Random(seed * 1_000_003 + zlib.crc32(doc.source.encode("utf-8")))
    passages = [norm(c.text) for c in chunk_document(doc)]
    by_kind: dict[str, list[Candidate]] = {}
    for section in doc.walk():
        for c in section_candidates(doc, section) + figure_candidates(doc, section):
            by_kind.setdefault(c.kind, []).append(c)
    for pool in by_kind.values():
        rng.shuffle(pool)
    kinds = sorted(by_kind)
    rng.shuffle(kinds)
    out: list[dict] = []
    seen: set[str] = set()
    while kinds and len(out) < per_report:
        for kind in list(kinds):
            if len(out) >= per_report:
                break
            pool = by_kind[kind]
            while pool:
                c = pool.pop()
                made = phrase(c, naming, genre, rng)
                if not made or made[0] in seen or repeats_heading(made[0], doc):
                    continue
                if not all(any(norm(s) in p for p in passages) and corpus.only_in(s, doc.source) for s in c.spans):
                    continue
                seen.add(made[0])
                name = Path(doc.source).name
                q = {"question": made[0], "kind": made[1], "genre": genre, "doc": name,
                     "gold": [{"doc": name, "span": s} for s in c.spans]}
                if c.listing:
                    q["items"] = [{"doc": name, "span": s} for s in c.spans]
                out.append(q)
                break
            else:
                kinds.remove(kind)
    return out


def parse_corpus(corpus_dir: Path) -> list[Document]:
    """Every report of a corpus folder, parsed; unreadable ones are logged and left out."""
    docs = []
    for source, path in corpus_files(Path(corpus_dir))[0].items():
        try:
            docs.append(parse_file(path, source))
        except ReadError as e:
            log.warning("%s", e)
    return docs


def derive_questions(corpus_dir: Path, per_report: int = PER_REPORT, seed: int = SEED) -> list[dict]:
    """Derived questions over every report of ``corpus_dir`` (see the module docstring), in corpus order,
    ids numbered within their report ("party_web/09_….txt#3"): a report whose questions change never
    renumbers another's, nor moves them between the halves `app.py eval` reports apart (``run.parity``)."""
    docs = parse_corpus(corpus_dir)
    corpus = Corpus(docs)
    out = []
    for doc in docs:
        genre = genre_of(Path(doc.source).name) or ("gov" if doc.kind == "政府工作报告" else "party")
        out += [{"id": f"{doc.source}#{n}", **q}
                for n, q in enumerate(report_questions(doc, genre, corpus, per_report, seed), 1)]
    return out


def summary(questions: list[dict]) -> str:
    """Counts per genre and kind, one line each."""
    counts = Counter((q["genre"], q["kind"]) for q in questions)
    lines = []
    for genre in sorted({g for g, _ in counts}):
        kinds = ", ".join(f"{k} {n}" for (g, k), n in sorted(counts.items()) if g == genre)
        reports = len({q["doc"] for q in questions if q["genre"] == genre})
        lines.append(f"{genre}: {sum(n for (g, _), n in counts.items() if g == genre)} questions "
                     f"over {reports} reports ({kinds})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrieval.eval.derive",
                                     description="Derive questions with gold spans from the structure of a corpus's reports.")
    parser.add_argument("--corpus", type=Path, required=True, help="folder of reports")
    parser.add_argument("--out", type=Path, help="JSONL file to write (default: standard output)")
    parser.add_argument("--per-report", type=int, default=PER_REPORT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if not args.corpus.is_dir():
        print(f"error: {args.corpus}: not a folder", file=sys.stderr)
        return 1
    questions = derive_questions(args.corpus, args.per_report, args.seed)
    lines = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(lines, encoding="utf-8")
    else:
        sys.stdout.write(lines)
    print(summary(questions), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
