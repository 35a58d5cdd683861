"""Direct answers, extractive only, that abstain rather than mislead.

- How-many questions: a sentence of the top passage's report that states a number with the unit
  asked ("几节" too: data/answer_cues.txt ``measure``), names the thing counted (``counted``) and says
  what was asked about (every concept of the question but its frame words, data/answer_cues.txt; the
  report's title, opening and heading path may say some, and a report about every kind of unit asked
  says the words naming only them: "县局", ``_kinds_said``) — for the year asked (the passage is about
  it, the sentence names no other year), for the unit asked, and a target only when a target was
  asked (a plan section, or target wording in the clauses stating the figure or leading them in) or
  the passage is the plan of the year asked and no other (``_plans_asked_year``: no result of it is
  written yet), a result only when a result was; a question naming only a report ("2025年…政府工作报告里
  X是多少？") takes a result first and a target when no result qualifies (``_either_part``); a figure
  stated only as a move ("提高1.64个百分点") only when the question asks how much something moved
  (``_as_change``); a rate asked only as a percentage (``RATE``). "哪几条" asks for items, not a figure.
- List questions ("有哪些问题", read by ``search.question.understand``; and plan questions): the items
  of the ONE section that answers — of the top passages that play the role asked (by their headings,
  or by a paragraph of their own: "我们也清醒看到，……") and come from the unit and year asked, the first
  of the first one's report whose section has items on the topic asked (``on_topic``): its own items
  when it enumerates two or more (or the parts its lead states with their count, "A、B、C三个环节", when
  fewer items follow: a web copy cut off), else the clauses of its paragraph playing the role, else — for a
  question naming the kind of its parts ("围绕哪几方面") — the parts one sentence of it lists in a row, closed by
  that word ("着重从A、B、C等方面…", ``_in_a_row``), else the single-item passages of that section (the one
  the topic picks out of them by the sentences of its substance, ``_body_sentences``: "下一步如何加强执纪监督？"
  over "（三）强化执纪监督。…" quotes how, not the bare heading); one item
  alone only when it opens its list or the question names what it says ("二是……" alone is part of a
  list). Two words the question says side by side ("班子建设") pick out the items saying them together,
  though the report says each apart elsewhere.
  Each item is its first sentence, and the next one when the first is a bare heading ("一是构建学习体系。")
  or most items of its list open with one (a list is written alike), within ``ITEM_CHARS``; a text ending
  inside that sentence (a web copy cut off) shows "…". A question naming nothing but the role ("存在问题的原因是什么？") gets no list when
  the top passages come from several reports: nothing tells which one answers.
- A paragraph playing the problem role that lists no items states them in one sentence ("过去一年，虽然有
  成绩，但在…等方面还有一定不足。", or the sentence after "…还存在不少问题。"): that sentence answers
  (``_shortfall_stated``), when it says the question's topic as an item would.
- Cause questions that name their problem ("个别党员放松思想改造，原因出在哪？"), when no section of causes
  answers: the sentences that give the cause ("由于…", "主观上…"; data/answer_cues.txt ``because``) in
  the one item of the top passage's report that states the problem (``_causes_given``).
- Honours questions ("…拿过哪些荣誉？", ``honours_given``): the sentences stating an honour won of the one
  passage ranked highest, of the top passage's report, that states any; a report gives its honours in one
  place, most often one sentence of its opening ("社区先后荣获“…”、“…”等荣誉称号。").
- Work questions ("…具体怎么搞的？", "怎样学习贯彻…？"; ``list_role work``): the items the first passage
  that plays the role and agrees enumerates itself, two or more (its 一是/（一）/1. items, or the clauses
  of its paragraph), or those of them the topic picks out — never another passage's: a question asking
  how one thing was done names one item of a list as often as a list, and the section it names is the
  one ranked first. Single-item passages gathered under a heading answer only when the question names
  nothing the first one's place (title, opening, headings above) leaves unnamed and its own heading
  names none of it: it asks how that whole was done ("2022年上半年工业园区意识形态工作怎么抓的？" over
  "(二)强化理论学习…" of a report on just that; ``_asks_whole_list``), in the report's order. A passage of one item
  answers only when its substance is prose and its own heading — or the item's bare heading, its first
  short sentence ("三是强化督促检查。结合…"; ``_bare_heading``) — names some of what the report's title and
  the headings above leave unsaid, its substance the rest ("…党风廉政这块是怎么抓的" → "2.党风廉政情况";
  ``_heading_picks``): the sentences of the paragraph that heading opens (``_body_sentences``).

Nothing is ever written that is not in a passage: every line is a verbatim slice of one passage's
text (or its heading); when no sentence qualifies, there is no direct answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..ingest.roles import paragraph_cues, paragraph_roles, shortfall
from ..ingest.years import cn_number
from ..search.question import (ANY_UNIT, ARABIC_YEAR, CN_YEAR, DURATION, LIST, QUANTITY, Question, cn_year, stating,
                               subject, understand)
from ..search.unit_types import kinds_only
from ..text import Concept, data_rows, is_naming, is_phrasing, lead_in_dropped, normalize, normalize_question
from .topic import topic_parts

TOP = 3  # passages a direct answer may quote from
MAX_ITEMS = 8  # quotes a direct answer shows: 991 of the 1,014 answers over the three eval corpora had 8 or fewer
ITEM_CHARS = 80  # an item longer than this is cut at a clause end (shown with "…")
BARE = 16  # an item whose first sentence is this short is a heading: its next sentence is its substance
SENTENCE = re.compile(r"[^。；！？\n]+[。；！？]?")
ITEM_START = re.compile(
    r"(?:^|(?<=[。；：:\n]))\s*(?:[一二三四五六七八九十]+是|[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]+、"
    r"|\d{1,2}[.、．](?!\d)|第[一二三四五六七八九十]+[，,、])"
)


@dataclass(frozen=True)
class Quote:
    """One verbatim slice of a passage, with the passage's rank."""

    text: str
    rank: int


@dataclass(frozen=True)
class Answer:
    """A direct answer: ``figure`` (one sentence) or ``list`` (its items), each quote with its [n]."""

    kind: str
    quotes: list[Quote] = field(default_factory=list)

    def to_json(self) -> dict:
        """As kept in a chat turn (the exports quote it from there: computed once, when asked)."""
        return {"kind": self.kind, "quotes": [{"text": q.text, "rank": q.rank} for q in self.quotes]}

    @classmethod
    def from_json(cls, data: dict | None) -> Answer | None:
        """A turn's kept answer (None: the turn has none); a malformed one raises TypeError/KeyError/ValueError."""
        if data is None:
            return None
        if data["kind"] not in ("figure", "list"):
            raise ValueError(f"unknown answer kind {data['kind']!r}")
        return cls(data["kind"], [Quote(str(q["text"]), int(q["rank"])) for q in data["quotes"]])


@lru_cache(maxsize=1)
def _closing() -> re.Pattern:
    """Words that close a list stated in a paragraph ("对这些问题，我们……"): data/answer_cues.txt."""
    return re.compile("|".join(value for kind, value in data_rows("answer_cues.txt") if kind == "closing"))


@lru_cache(maxsize=1)
def _cues() -> tuple[re.Pattern, frozenset[str]]:
    """(target wording in a sentence, frame words of a question): data/answer_cues.txt."""
    return _cue("target"), frozenset(value for kind, value in data_rows("answer_cues.txt") if kind == "frame")


@lru_cache(maxsize=None)
def _cue(kind: str) -> re.Pattern:
    """The regular expressions of one kind of data/answer_cues.txt, as one."""
    return re.compile("|".join(value for k, value in data_rows("answer_cues.txt") if k == kind) or "(?!)")


def is_target(sentence: str, section_type: str, figure: re.Pattern | None = None, thing=None) -> bool:
    """Does a sentence state a target, plan or task (its wording, or a plan section) rather than a
    result? Target words a result phrase holds ("超额完成国家下达任务", "制定年度学习计划") do not count.
    With the ``figure`` asked (and the ``thing`` counted), only the clauses stating it and what leads
    them in before a colon are read: "增长4.2%左右" sets no target for "粮食产量280.76亿斤" beside it."""
    if section_type == "plan":
        return True
    text = _cue("result").sub(" ", normalize(sentence))
    if figure is not None:
        clauses = re.split(r"[，,；;]", text)
        stating_it = [c for c in clauses if figure.search(c) and (thing is None or _says(c, thing))]
        colon = re.search(r"[：:]", text)
        lead = text[:colon.start()] if colon and stating_it and colon.start() < text.find(stating_it[0]) else ""
        text = " ".join([lead, *stating_it]) if stating_it else text
    return bool(_cues()[0].search(text))


@lru_cache(maxsize=1)
def _list_roles() -> frozenset[str]:
    """Roles whose sections answer with their items although the question does not say "哪些"
    ("下步怎么抓理论武装？"): data/answer_cues.txt."""
    return frozenset(value for kind, value in data_rows("answer_cues.txt") if kind == "list_role")


def asks_which(question: str) -> bool:
    """Does a question ask which items ("有哪几条", "哪几件事") rather than how many?"""
    return bool(_cue("which").search(normalize_question(question)))


MAGNITUDE = re.compile(r"(?:几|多少)([万亿]+[^\W\d_是呢吗啊？?])")  # "多少亿元", "多少万人"
# A rate or share asked ("赤字率是多少？", "…比重多少？") is a percentage or its points, never an amount
# ("拟安排财政赤字13500亿元" does not answer "赤字率").
RATE = re.compile(r"(?:率|比重|比例|占比)(?:是|有|为|约为|达到|大概)?(?:多少|几)")
RATE_UNIT = r"(?:%|％|‰|个?百分点|个?千分点)"


ORDINAL = re.compile(r"第几")  # "公司法第几条", "第几次": which one, not how many
CN_DIGITS = "零〇一二三四五六七八九十百千万两"  # a number's characters: a count starts at its first


def asks_which_one(asked: Question) -> bool:
    """Does the question ask which one ("引用了公司法第几条", ``ORDINAL``), not how many?"""
    return bool(ORDINAL.search(asked.text))


def figure_unit(question: str, asked: Question) -> re.Pattern:
    """A number with the unit a how-many question counts (``_counting_unit``), never an ordinal
    ("第十九条规定" counts nothing); for a question asking which one (``asks_which_one``), only an ordinal."""
    unit = _counting_unit(question, asked).pattern
    return re.compile(("第" if asks_which_one(asked) else rf"(?<![第\d{CN_DIGITS}])") + unit)


def _counting_unit(question: str, asked: Question) -> re.Pattern:
    """A number with the unit a how-many question counts: the searcher's unit, or the measure word
    after "几"/"多少" when the searcher reads none ("几节" → 节; data/answer_cues.txt), or the
    magnitude and unit it names ("多少亿元" → "…亿元", "4.5万亿元" too), or a percentage for a rate
    (``RATE``)."""
    q = normalize_question(question)
    if RATE.search(q) and asked.quantity == ANY_UNIT:
        return stating(RATE_UNIT)
    m = re.search(rf"(?:几|多少)({_cue('measure').pattern})", q)
    if m and asked.quantity == ANY_UNIT:
        return stating(m.group(1))
    scale = MAGNITUDE.search(q)  # "多少亿人次" is not answered by "150万人次"
    if scale and asked.quantity == ANY_UNIT:
        return stating(f"[万千百]?{scale.group(1)}")
    return stating(asked.quantity)


def years_named(sentence: str) -> set[int]:
    """The years a sentence names ("2024年", "二〇二四年")."""
    return {int(m.group(1)) for m in ARABIC_YEAR.finditer(sentence)} | {cn_year(m.group(1)) for m in CN_YEAR.finditer(sentence)}


@lru_cache(maxsize=1)
def _basis() -> re.Pattern:
    """A year a figure is compared with ("是2010年的2.2倍", "比2019年增长", "与2020年相比"; data/answer_cues.txt
    ``basis``): the sentence is not about that year."""
    return re.compile(rf"(?:{_cue('basis').pattern})(?:{ARABIC_YEAR.pattern}|{CN_YEAR.pattern})")


def years_stated(sentence: str) -> set[int]:
    """The years a (normalised) sentence is about: those it names (``years_named``) but a comparison's basis."""
    return years_named(_basis().sub(" ", sentence))


def _needed(concepts) -> list:
    """The concepts a quote must say: all but frame words (data/answer_cues.txt), single characters
    and the quantity asked itself ("几节")."""
    frame = _cues()[1]
    return [c for c in concepts if c.words and not any(w in frame or len(w) < 2 or QUANTITY.search(w) for w in c.words)]


def _modifier(q: str, needed: list, thing):
    """The concept the question puts right before what it counts, naming which one: 就业 of
    "就业专项资金有多少亿元" (the head before the quantity word, or the thing counted)."""
    m = QUANTITY.search(q)
    if m is None:
        return None
    before = re.sub(r"(?:有|是|为|共|一共|总共|达|约|大概|要|的)+$", "", q[:m.start()])
    heads = [c for c in needed if c is thing or any(before.endswith(w) for w in c.words)]
    for head in heads:
        for w in head.words:
            at = q.find(w)
            if at > 0:
                for c in needed:
                    if c is not head and any(q[:at].endswith(x) for x in c.words):
                        return c
    return None


def counted(question: str, needed: list):
    """The concept a how-many question counts: the first said right after its quantity word in the
    same clause ("开了多少次学习会"), else the last before it ("粮食总产量是多少")."""
    q = normalize_question(question)
    m = QUANTITY.search(q) or DURATION.search(q)
    if m is None:
        return None
    after = [(q.find(w, m.end()), -len(w), i) for i, c in enumerate(needed) for w in c.words if w in q[m.end():]]
    after = [a for a in after if not re.search(r"[，,；;。？?]", q[m.end():a[0]])]
    if after:
        return needed[min(after)[2]]
    before = [(q.rfind(w, 0, m.start()) + len(w), len(w), i) for i, c in enumerate(needed) for w in c.words
              if w in q[:m.start()]]
    return needed[max(before)[2]] if before else None


def _says(text: str, c) -> bool:
    """Does a text say a concept: one of its words, or a part at least half as long as its longest
    word ("产量" says "总产量"; "学习" does not say "中心组学习")?"""
    longest = max(len(w) for w in c.words) if c.words else 0
    return any(w in text for w in c.words) or any(2 * len(t) >= longest and t in text for t in c.parts)


def _names(text: str, c) -> bool:
    """Does a text name a concept: one of its words, or a part longer than half its longest word
    ("产量" names "总产量"; "产量" in "食糖产量" does not name "粮食产量")?"""
    longest = max(len(w) for w in c.words) if c.words else 0
    return any(w in text for w in c.words) or any(2 * len(t) > longest and t in text for t in c.parts)


def _unsaid(text: str, needed: list) -> int:
    """How many needed concepts a (normalised) text does not say."""
    return sum(1 for c in needed if not _says(text, c))


def _said(text: str, needed: list) -> bool:
    """Does a (normalised) text say every needed concept (one may be missing when four or more are)?"""
    return _unsaid(text, needed) <= len(needed) // 4


def says_subject(sentence: str, needed: list, thing, context: str = "") -> bool:
    """Does a (normalised) sentence say what a how-many question asks about (its ``needed`` concepts,
    ``_said``)? A concept its passage's ``context`` (report title, heading path, opening) says counts —
    "党组" in "2023党组党建工作总结" — but the sentence itself must name the ``thing`` counted
    (``counted``: "学习" in "开了多少次学习会"; ``_names``), or say one concept when that cannot be told."""
    own = _names(sentence, thing) if thing is not None else any(_says(sentence, c) for c in needed)
    return own and _said(sentence + context, needed)


def _kinds_said(p: dict, needed: list, thing=None) -> str:
    """What a passage's report says by being about every kind of unit the question names (the
    searcher's evidence: "我镇" in its text): the ``needed`` concepts naming nothing but kinds of unit
    ("县局", "镇里"; ``unit_types.kinds_only``) — never the ``thing`` counted or listed."""
    if not (p.get("why") or {}).get("unit_type"):
        return ""
    return " ".join(c.words[0] for c in needed if c is not thing and any(kinds_only(normalize(w)) for w in c.words))


DOCUMENT_NAME = re.compile(r"《[^《》]{0,80}》")  # 《…5个村党组织反馈问题整改落实方案》


def _stating(sentence: str, number: re.Pattern, thing) -> list[str]:
    """The clauses of a (normalised) sentence that state a number and name the thing counted
    ("基层党组织召开学习会178次"; every clause with the number when nothing is counted): none when the
    number is in one clause and the thing in another."""
    return [c for c in re.split(r"[，,；;：:]", sentence) if number.search(c) and (thing is None or _names(c, thing))]


def _as_change(clauses: list[str], number: re.Pattern) -> bool:
    """Do the clauses stating a figure (``_stating``) state it only as a change — a change word right
    before each number ("森林覆盖率提高1.64个百分点", data/answer_cues.txt ``changed``) — and not as a level
    ("达到", "提高到72.2%")? A question asking a level ("森林覆盖率是多少？") is not answered by how much it moved."""
    changed = _cue("changed")
    return all(changed.search(c[:m.start()]) for c in clauses for m in number.finditer(c))


def _context(p: dict) -> str:
    """What a passage's place says about it: its report's title and its heading path (normalised)."""
    return normalize(" ".join([p.get("title") or "", p.get("section") or ""]))


def _opening(p: dict, top: list[dict]) -> str:
    """The opening of ``p``'s report, when one of the ``top`` passages is it (its 导语, before any
    heading): it names the report's unit and occasion when the title does not."""
    return " ".join(x["text"] for x in top if x["source"] == p["source"] and x.get("section_type") == "overview" and x is not p)


@lru_cache(maxsize=256)
def asked_of(question: str) -> Question:
    """What a question asks (``understand``), read once: one answer reads it in several places."""
    return understand(normalize_question(question))


def asked_concepts(question: str) -> list:
    """The concepts a quote must say of what the question is about (``topic_parts``, ``_needed``)."""
    return _needed(subject(" ".join(topic_parts(question))))


def topic_concepts(question: str, passages: list[dict]) -> list:
    """The concepts of a question's topic (its words without role and function words, ``topic_parts``),
    less the ones that only put the question: a verb, pronoun or particle (``text.is_phrasing``) that
    no ranked passage says — in its text, title or heading path — ("全面从严治党这块", "归结为哪几方面",
    "准备从哪几方面入手") can tell no item from another. A noun no passage says stays ("荣誉", "市局"):
    the search did not find what was asked, and nothing answers. A plan question leaves out who reports
    ("县局支部书记明年…准备从哪几方面入手"; data/answer_cues.txt ``reporter``): a plan's items say what he
    will do, never who he is — a problem item may be about him ("作为支部书记…表率强度不够")."""
    needed = asked_concepts(question)
    if asked_of(question).roles == ["plan"]:
        reporter = _cue("reporter")
        needed = [c for c in needed if not all(reporter.search(w) for w in c.words)]
    texts = [normalize(p["text"]) + _context(p) for p in passages]
    return [c for c in needed if not all(is_phrasing(w) for w in c.words) or any(_says(t, c) for t in texts)]


def listed(question: str, needed: list):
    """The thing a list question lists: of its ``needed`` concepts said right after its list word in the
    same clause, the head of the phrase they start — the last of a run of naming words that follow one
    another, a "的" between them at most ("制定了哪些方案" lists 方案, "哪些市级荣誉" 荣誉, "哪些慰问困难群众的活动"
    活动) — none when the first word only puts the question ("从哪几方面入手")."""
    q = normalize_question(question)
    m = LIST.search(q)
    if m is None:
        return None
    tail = re.split(r"[，,；;。？?！!]", q[m.end():], maxsplit=1)[0]
    found = sorted((tail.find(t), -len(t), t, i) for i, c in enumerate(needed) for t in c.members if t in tail)
    if not found or is_phrasing(found[0][2]):
        return None
    head, end = found[0][3], found[0][0] + len(found[0][2])
    for at, _, word, i in found[1:]:
        if at < end:  # a part of a word already read
            continue
        if tail[end:at] not in ("", "的") or not is_naming(word):
            break
        head, end = i, at + len(word)
    return needed[head]


def phrases(question: str, needed: list) -> list[Concept]:
    """Two ``needed`` concepts the question says side by side, as one ("班子建设" of "在班子建设方面"): a
    report may say each word apart in its opening and heading and the two together in one item only."""
    q = normalize_question(question)
    return [Concept((a + b,), ()) for first, second in zip(needed, needed[1:])
            for a in first.words[:1] for b in second.words[:1] if a + b in q]


@dataclass(frozen=True)
class Topic:
    """What a list question asks about, as its items must say it: the concepts (``topic_concepts``),
    the thing it lists (``listed``: each item quoted, or its place, says it) and the pairs of concepts
    it says side by side (``phrases``: they pick the items saying them together)."""

    needed: list[Concept]
    thing: Concept | None = None
    pairs: list[Concept] = field(default_factory=list)
    kind: str | None = None  # the word the question names its parts by ("方面" of "围绕哪几方面"; ``kind_asked``)

    @classmethod
    def of(cls, question: str, passages: list[dict]) -> Topic:
        needed = topic_concepts(question, passages)
        return cls(needed, listed(question, needed), phrases(question, needed), kind_asked(question))


def _telling(topic: Topic, p: dict, items: list[str], lead: str = "", opening: str = "") -> list:
    """The topic's concepts, and its pairs, that tell a passage's items apart: said by some item
    (normalised), not by its report's title or ``opening``, its heading path or the ``lead`` that
    opens the list."""
    place = normalize(" ".join([p.get("title") or "", opening, p.get("section") or "", lead]))
    return [c for c in [*topic.needed, *topic.pairs] if not _says(place, c) and any(_says(item, c) for item in items)]


def _tells(topic: Topic, p: dict, piece: str, lead: str = "", opening: str = "") -> bool:
    """Does the question name what one item says and its place does not (``_telling``)?"""
    return bool(_telling(topic, p, [normalize(_item_text(piece))], lead, opening))


def on_topic(topic: Topic, p: dict, pieces: list[str], lead: str = "", opening: str = "") -> list[int]:
    """Which of a list passage's ``pieces`` answer the question's ``topic``: all when the topic is
    only a role ("存在问题的原因是什么？") or the passage's place says it — its report's title (or
    ``opening``), heading path and the ``lead`` that opens the list ("镇党委班子2025年民主生活会" in the
    title, "政治能力" in the heading); else the pieces that say what their place leaves unsaid in the
    words quoted from them (``_item_text``: "支部书记在表率作用方面有什么问题？" is answered by the one
    item on 表率, not by the list around it) — the rest of the question may be said by the sentence
    right after the quote when the quoted words name a thing that tells the item apart (``is_naming``:
    "考核", not the degree "不够充分"). The thing listed is never the one concept let go."""
    # What the report as a whole does not say is what picks a part of it: "网格化在社区党建中作用与探索"
    # says all of "…在服务方式方面采取了哪些措施？" but 服务方式, which only one item says.
    items = [normalize(_item_text(piece)) for piece in pieces]
    # Of that, what some item says tells the items apart; what none says picks none out.
    telling = _telling(topic, p, items, lead, opening)
    context = _context(p) + normalize(lead + opening)
    needed, thing = topic.needed, topic.thing

    def answers(text: str) -> bool:
        return _said(text, needed) and (thing is None or _says(text, thing))

    if telling:
        # The quote says what tells the item apart. When that is a thing it names (not a degree: "不够充分"),
        # the sentence after it may say the rest of the question: "三是党建工作考核结果应用还不够充分。
        # 考核时听汇报…导向带动作用…" answers "党建考核为啥没起到导向带动作用？".
        naming = [c for c in telling if any(is_naming(w) for w in c.words)]
        return [i for i, item in enumerate(items)
                if _said(item, telling) and (answers(context + item) or (
                    any(_says(item, c) for c in naming) and answers(context + normalize(_lead_sentences(pieces[i])))))]
    if answers(context):
        return list(range(len(pieces)))
    return [i for i, item in enumerate(items) if answers(context + item)]


def _agrees(p: dict, asked: Question) -> bool:
    """Is a passage from the unit and about the year the question names, and not from another kind of
    unit than the one it names (the searcher's evidence)?"""
    why = p.get("why") or {}
    return ((not asked.units or why.get("unit", True)) and (not (asked.years or asked.report_years) or why.get("year", True))
            and not why.get("other_unit_type", False))


def figure_sentence(question: str, passages: list[dict]) -> Quote | None:
    """For a how-many question, the sentence of the top passage's report that states the figure asked
    (see the module docstring); None when no sentence surely does."""
    asked = asked_of(question)
    if asked.quantity is None or not passages or (asked.is_list and asks_which(question)):
        return None
    number = figure_unit(question, asked)
    ordinal = asks_which_one(asked)
    wants_target = asked.target or "plan" in asked.roles
    needed = _needed(asked.concepts)
    thing = counted(question, needed)
    if thing is not None and all(_cue("measured").search(w) for w in thing.words):
        needed, thing = [c for c in needed if c is not thing], None  # "40分" says 积分: the figure is the thing
    # the word the question puts right before what it counts names which one ("就业专项资金"): a sentence must
    # name it (``_names``), never let it go
    modifier = _modifier(asked.text, needed, thing)
    allowed_years = set(asked.years) | set(asked.report_years)
    asks_change = bool(_cue("change").search(asked.text))
    source = passages[0]["source"]
    found: list[tuple[int, int, int, Quote]] = []  # (tier, concepts the sentence leaves unsaid, order, quote)
    for p in passages[:TOP]:
        if p["source"] != source or not _agrees(p, asked):
            continue
        context = " ".join([_context(p), normalize(_opening(p, passages[:TOP])), _kinds_said(p, needed, thing)])
        target_answers = wants_target or _plans_asked_year(p, asked)
        for m in SENTENCE.finditer(p["text"]):
            sentence = m.group().strip()
            norm = normalize(sentence)
            # a figure inside a document's name states nothing; an ordinal after it is the document's own
            # ("《中华人民共和国公司法》第十九条规定" answers "公司法第几条")
            stated = norm if ordinal else DOCUMENT_NAME.sub("", norm)
            if not number.search(stated) or not says_subject(norm, needed, thing, context):
                continue
            if modifier is not None and not _names(norm + context, modifier):
                continue
            clauses = _stating(stated, number, thing)
            if not clauses or (not asks_change and _as_change(clauses, number)):
                continue
            tier = 0
            if is_target(sentence, p.get("section_type", ""), number, thing) != target_answers:
                if not _either_part(asked, wants_target):
                    continue
                tier = 1
            if allowed_years and years_stated(norm) - allowed_years:
                continue
            unsaid = sum(1 for c in needed if not _says(norm + context, c))
            found.append((tier, unsaid, len(found), Quote(sentence, p["rank"])))
    # Of the sentences that qualify, the one that says most of what was asked: "基层党组织书记讲党课73人次",
    # not the sentence before it, "局党组班子成员深入基层党组织讲党课5人次", which leaves 书记 unsaid.
    return min(found)[3] if found else None


def _either_part(asked: Question, wants_target: bool) -> bool:
    """Does the question name a report and ask what it states, neither a target nor a year's result
    ("2025年浙江政府工作报告里提质升级有多少个？")? Its figure may sit in either part of the report: a result
    answers first, a target when no result does."""
    return bool(asked.report_years) and not asked.years and not wants_target and not _cue("done").search(asked.text)


def _plans_asked_year(p: dict, asked: Question) -> bool:
    """Is a passage a plan section about the years asked and no other ("三、2026年重点工作" for
    "天津2026年农村规模化供水覆盖率多少？")? What it states for them is a target: no result of those years is
    in its report yet. Not when the question asks what was done ("增长了多少"; data/answer_cues.txt
    ``done``): a plan never answers that."""
    years = p.get("data_years") or []
    return (bool(asked.years) and p.get("section_type") == "plan" and len(years) == 2
            and all(y in asked.years for y in range(years[0], years[1] + 1)) and not _cue("done").search(asked.text))


def _item_text(text: str, headed: bool = False) -> str:
    """An item's first sentence — with the next one when the first is a bare heading, or ``headed``:
    its list opens its items with headings — cut at a clause end when long, or where the text ends
    inside that sentence (a web copy cut off), the cut shown as "…"."""
    text = text.strip()
    sentences = list(SENTENCE.finditer(text))
    item = (sentences[0].group() if sentences else text).strip()
    if (headed or len(item) <= BARE) and len(sentences) > 1:  # verbatim: a heading's line break is kept ("1.年度党建情况\n我校…")
        item = text[sentences[0].start():sentences[1].end()].strip()
        if len(sentences) == 2 and sentences[1].end() == len(text) and text[-1] not in "。；！？":
            item += "…"
    if len(item) <= ITEM_CHARS:
        return item
    cut = max(item.rfind(c, 0, ITEM_CHARS) for c in "，,：:、")
    return item[: cut if cut > 10 else ITEM_CHARS] + "…"


def _item_texts(pieces: list[str], picked: list[int]) -> list[str]:
    """The picked items' texts. The items of one list are written alike: when most of them open with a
    bare heading ("一是精心组织安排,宣传教育引导。"), so do the others, though a little longer ("四是落实落细措施,
    抓好常态化防控。"), and each is quoted with its substance."""
    firsts = [SENTENCE.match(piece.strip()) for piece in pieces]
    headed = 2 * sum(bool(m) and len(m.group().strip()) <= BARE for m in firsts) > len(pieces)
    return [_item_text(pieces[i], headed) for i in picked]


def _lead_sentences(text: str) -> str:
    """An item's first two sentences: its claim and the substance right after it."""
    return "".join(m.group() for m in list(SENTENCE.finditer(text.strip()))[:2])


def _whole(piece: str, text: str) -> bool:
    """Does an item's first sentence end (not cut off: "一是部分驻区单位对社区党建")? A line that ends
    without a stop ends too when the passage ``text`` goes on after it: a web copy cuts only at its end."""
    piece = piece.strip()
    m = SENTENCE.match(piece)
    if not m or m.group()[-1] in "。；！？":
        return bool(m)
    at = text.find(piece)  # the piece's own place: the same words may stand earlier in a heading
    return at >= 0 and bool(text[at + m.end():].strip())


def _heading(p: dict) -> str:
    return (p.get("section") or "").split(" › ")[-1].strip()


# The kinds of item markers: a list's items share one; items of another kind inside them are their points.
MARKER_KINDS = [re.compile(r"\s*" + m) for m in (r"[一二三四五六七八九十]+是", r"[（(][一二三四五六七八九十]", r"[（(]\d",
                                                 r"[一二三四五六七八九十]+、", r"\d", r"第")]


def _kind(piece: str) -> int:
    return next((i for i, m in enumerate(MARKER_KINDS) if m.match(piece)), -1)


def _ordinal(piece: str) -> int | None:
    """The number an item's marker (``ITEM_START``) gives it: 3 of "三是", "（三）", "3."."""
    m = ITEM_START.match(piece)
    number = re.search(r"[一二三四五六七八九十]+|\d+", m.group()) if m else None
    return cn_number(number.group()) if number else None


def _opens_list(piece: str) -> bool:
    """Is an item the first of its list: its marker numbers it one (一是, （一）, 1. …)? A "二是" alone
    says the list has more."""
    return _ordinal(piece) == 1


PART = r"[^、，,。；;：:\n]{2,30}"  # one part of a list a sentence states in a row, parted by "、"
# A list a sentence states with its count: "重点开展了召开民主生活会、形成分析检查报告、组织群众评议三个环节的工作".
COUNTED_LIST = re.compile(rf"((?:{PART}、)+{PART}?)(?:等)?([两二三四五六七八九十]|[2-9])(?:个|项|件|条|大|方面|环节)")


def _counted_list(lead: str) -> list[str]:
    """The parts of a list the ``lead`` of a passage's items states with their count, when the count is
    the number of parts ("A、B、C三个环节"); else none."""
    for m in COUNTED_LIST.finditer(lead):
        parts = m.group(1).split("、")
        if len(parts) == cn_number(m.group(2)):
            return parts
    return []


def kind_asked(question: str) -> str | None:
    """The word a question asking which parts names them by, when it is one a report closes a list in a
    row with ("围绕哪几方面" → "方面"; data/answer_cues.txt ``parts``); else None."""
    m = re.search(r"哪(?:几|些)个?(" + _cue("parts").pattern + ")", normalize_question(question))
    return m.group(1) if m else None


# A list one sentence states in a row, closed by "等" and the kind of its parts: "着重从发挥政治引领作用、贯彻落实上级
# 党组织工作部署、…、改进工作作风等方面" (three parts at least; a count may follow "等": "等五个方面").
IN_A_ROW = rf"((?:{PART}、){{2,}}{PART}?)等(?:[两二三四五六七八九十]|\d+)?个?"


def _in_a_row(p: dict, kind: str) -> tuple[str, list[str]]:
    """The one sentence of a passage that lists parts in a row closed by "等" and the ``kind`` asked
    ("…等方面"), and its parts — the first without the words leading into it ("着重从"): ("", []) unless
    exactly one sentence does."""
    rows = [(m.group().strip(), row) for m in SENTENCE.finditer(p["text"])
            for row in re.finditer(IN_A_ROW + re.escape(kind), m.group())]
    if len(rows) != 1:
        return "", []
    sentence, row = rows[0]
    parts = [part.strip() for part in row.group(1).split("、")]
    return sentence, [lead_in_dropped(parts[0]), *parts[1:]]


def _headings(p: dict) -> list[str]:
    """The openings of a passage's headings (its section path), to tell them from its items."""
    return [h.strip()[:12] for h in (p.get("section") or "").split(" › ") if h.strip()]


def _own_heading(p: dict, piece: str) -> bool:
    return any(piece.lstrip().startswith(h) for h in _headings(p))


def _pieces(p: dict) -> list[str]:
    """The whole items one passage enumerates: its own headings left out, the items of its outer list
    only (the kind of marker its first item has: "1、" items keep their "一是" points inside them)."""
    text = p["text"]
    starts = [m.start() for m in ITEM_START.finditer(text)]
    if len(starts) > 1:  # a heading of the passage's own, leading its items
        starts = [s for s in starts if not _own_heading(p, text[s:])] or starts
    outer = _kind(text[starts[0]:]) if starts else -1
    starts = [s for s in starts if _kind(text[s:]) == outer]
    pieces = []
    for s, e in zip(starts, [*starts[1:], len(text)]):
        piece = text[s:e].strip()
        if len(_item_text(piece)) >= 4:
            pieces.append(piece)
    return pieces


def _same_item(a: str, b: str) -> bool:
    """Are two quoted items one (the same words, or one the start of the other: a heading alone and
    the heading with its first sentence)?"""
    a, b = normalize(a).rstrip("。；;…"), normalize(b).rstrip("。；;…")
    return a.startswith(b) or b.startswith(a)


def _own_items(p: dict) -> list[str]:
    """The items a passage enumerates below its own headings (not "三、…（一）…" run together)."""
    return [piece for piece in _pieces(p) if not _own_heading(p, piece)]


def _single(p: dict) -> str | None:
    """The one item a passage is (a section of a list, an 一是 item): its enumerated item, else its
    numbered heading."""
    items = _own_items(p)
    if items:
        return _item_text(items[0])
    heading = _heading(p)
    return _item_text(heading) if ITEM_START.match(heading) else None


def _plays(p: dict, roles: list[str]) -> bool:
    """Does a passage play a role asked: by its headings (its badge), or by a paragraph of its own
    ("我们也清醒看到，……" in a review section; the searcher's evidence and ``paragraph_roles``)?"""
    return not roles or p.get("section_type") in roles or bool(_role_paragraphs(p, roles))


def _role_paragraphs(p: dict, roles: list[str]) -> list[str]:
    """The paragraphs of a passage that state a role asked: they open with that role's wording
    (data/role_cues.txt), the searcher found the role in the passage, and they are not an item of a
    numbered list (whose role is the list's). A section whose headings play the role has them too
    (the lead of "三、存在的问题及下一步打算": "……仍然存在一定的差距：……")."""
    if not roles or not (p.get("why") or {}).get("role"):
        return []
    return [para for para in p["text"].split("\n")
            if not ITEM_START.match(para) and set(paragraph_roles(para)) & set(roles)]


def _cue_end(text: str, roles: list[str]) -> int | None:
    """Where the first wording of a role asked ends in a text (data/role_cues.txt); None without one."""
    ends = [m.end() for role, pattern in paragraph_cues() if role in roles for m in [pattern.search(text)] if m]
    return min(ends, default=None)


def _clauses(paragraph: str, roles: list[str]) -> tuple[str, list[str]]:
    """The items a paragraph playing a role states without numbering: after its opening (to the colon,
    else to the clause end after the role's wording), its clauses split at "；" — or its sentences
    when it has none, or, for problems its first sentence lists, its runs of comma clauses each ending
    in a shortfall ("党建基础还不够牢固，面对新形势，党务干部能力还有待提升，…") —, leaving out one that
    restates the role ("还存在不少问题。") and stopping at the closing words ("对这些问题，我们……",
    data/answer_cues.txt). Returns (the opening, the items)."""
    colon = re.search(r"[：:]", paragraph)
    if colon is not None:
        opening = colon.end()
    else:
        cue = _cue_end(paragraph, roles)
        end = re.compile(r"[，,。；;]").search(paragraph, cue) if cue is not None else None
        if end is None:
            return paragraph, []
        opening = end.end()
    body = paragraph[opening:]
    by_clause = bool(re.search(r"[；;]", body))
    parts = re.split(r"(?<=[；;])", body) if by_clause else SENTENCE.findall(body)
    if not by_clause and parts and "problem" in roles and len(shortfalls := _shortfalls(parts[0])) >= 2:
        by_clause, parts = True, shortfalls + parts[1:]
    items = []
    for part in parts:
        part = part.strip()
        close = _closing().search(part)
        if close is not None:
            part = part[:close.start()].strip()
        if len(part) >= 4 and (by_clause or items or not paragraph_roles(part)):  # not a sentence restating the role
            items.append(part)
        if close is not None:
            break
    return paragraph[:opening], items


def _shortfall_stated(paragraph: str, roles: list[str]) -> str:
    """The one sentence in which a paragraph playing a role states the shortfalls, when it lists no
    items (``_clauses``: one at most): its first sentence — "过去一年，虽然有成绩，但在抓党建工作创新、抓难点
    问题突破等方面还有一定不足。" — or, when that only announces them in a few words after its cue ("同时，我们
    也清醒地看到，发展中还存在不少问题。"), the next one; "" when that sentence states no shortfall
    (data/shortfall.txt) or closes the paragraph ("我们一定……")."""
    sentences = [m.group().strip() for m in SENTENCE.finditer(paragraph) if m.group().strip()]
    if not sentences or len(_clauses(paragraph, roles)[1]) > 1:
        return ""
    cue = _cue_end(sentences[0], roles)
    if cue is None:
        return ""
    comma = re.compile(r"[，,]").search(sentences[0], cue)
    said = sentences[0][comma.end() if comma else cue:]
    sentence = sentences[1] if len(said) <= BARE and len(sentences) > 1 else sentences[0]
    return sentence if shortfall().search(sentence) and not _closing().search(sentence) else ""


def _shortfalls(sentence: str) -> list[str]:
    """A sentence's runs of comma clauses, each closed by one stating a shortfall (data/shortfall.txt);
    none unless every clause is in such a run."""
    runs, run = [], ""
    for clause in re.split(r"(?<=[，,])", sentence):
        run += clause
        if shortfall().search(clause):
            runs.append(run.rstrip("，,"))
            run = ""
    return [] if run.strip() else runs


def _parent(p: dict) -> tuple[str, str]:
    return p["source"], (p.get("section") or "").rsplit(" › ", 1)[0] if " › " in (p.get("section") or "") else ""


def _report_items(p: dict) -> bool:
    """Is a passage one of its report's outermost sections, headed by an item's marker below the ladder's
    top rung ("（一）…", "1.…", not "一、…")? A web copy that starts inside a section keeps its items
    and loses the heading above them: they are the items of one list, as under a heading."""
    heading = _heading(p)
    return (" › " not in (p.get("section") or "") and bool(ITEM_START.match(heading))
            and _kind(heading) not in (-1, _kind("一、")))


def _siblings(member: dict, p: dict) -> bool:
    """Under a heading, every passage is an item of its list; among a report's outermost sections, only
    those headed by the same kind of marker (``_report_items``) that play the same role."""
    if _parent(p)[1]:
        return True
    return (_report_items(member) and _kind(_heading(member)) == _kind(_heading(p))
            and member.get("section_type") == p.get("section_type"))


def _body_sentences(p: dict) -> list[str]:
    """The sentences of a passage headed by one item whose substance is prose ("（一）突出政治担当，落实主体
    责任。严格落实…。坚持…。"): those of the paragraph its heading opens (or of the next one, when the heading
    stands alone on its line), each whole (a web copy's last line cut off without a stop is left out);
    none when it enumerates items of its own, its heading is cut short in its path ("…") or fewer than
    two stand. Later paragraphs of a long section say its sub-topics ("“三农”工作进一步加强。"), not how the
    item was done."""
    heading = _heading(p)
    if not ITEM_START.match(heading) or heading.endswith("…") or _own_items(p):
        return []
    at = p["text"].rfind(heading)
    return _prose(p["text"][at + len(heading):], p["text"]) if at >= 0 else []


def _prose(after: str, text: str) -> list[str]:
    """The whole sentences (two or more) of the first paragraph of ``after``, the text right after an
    item's heading in a passage's ``text``."""
    paragraphs = [line for line in after.split("\n") if line.strip()]
    body = paragraphs[0] if paragraphs else ""
    sentences = [m.group().strip() for m in SENTENCE.finditer(body) if len(m.group().strip()) >= 4]
    sentences = [s for s in sentences if _whole(s, text)]
    return sentences if len(sentences) >= 2 else []


def _headed_prose(piece: str, text: str) -> list[str]:
    """The sentences of an item that is a heading on a line of its own over a paragraph of prose
    ("2.党风廉政情况" / "我校以…。有计划…。通过…。"): its substance, when the question picks that one item
    of its list (``_body_sentences`` for a passage that is the item)."""
    heading, _, after = piece.strip().partition("\n")
    if not after or len(heading) > BARE or re.search(r"[。；！？]", heading):
        return []
    return _prose(after, text)


def _bare_heading(piece: str) -> tuple[str, list[str]] | None:
    """An item's bare heading (its first sentence, ``BARE`` characters at most: "三是强化督促检查。") and the
    whole sentences of its substance after it on its paragraph, two or more (``_prose``); else none."""
    piece = piece.strip()
    m = SENTENCE.match(piece)
    if m is None or len(m.group().strip()) > BARE or not (prose := _prose(piece[m.end():], piece)):
        return None
    return m.group().strip(), prose


def _heading_picks(topic: Topic, p: dict, opening: str = "", heading: str | None = None, body: str = "") -> bool:
    """Does a passage's own heading (or an item's bare ``heading``: "三是强化督促检查。") pick it out as what
    the question asks about: of the concepts of the topic that its report's title, ``opening`` and the
    headings above leave unnamed, it names one at least, and its ``body`` names the rest
    ("昆山二中党总支2021年党风廉政这块是怎么抓的" → "2.党风廉政情况"; "…是怎么督促检查党员干部学习的" → "三是强化督促检查。
    …对各党支部组织党员干部开展集中学习…"; not "（一）加强组织领导" for "责任落实"). Named, as the heading must name
    it (``_names``): a title holding half of a concept ("责任制" for 主体责任) leaves it to the heading
    ("（一）突出政治担当,落实主体责任。")."""
    own = normalize(_heading(p) if heading is None else heading)
    rest = normalize(" ".join([p.get("title") or "", opening, _parent(p)[1]] + ([_heading(p)] if heading else [])))
    unsaid = [c for c in topic.needed if not _names(rest, c)]
    said = normalize(body)
    return any(_names(own, c) for c in unsaid) and all(_names(own, c) or _names(said, c) for c in unsaid)


def _asks_whole_list(topic: Topic, p: dict, opening: str = "") -> bool:
    """Does a work question ask how the whole list that passage ``p`` is one item of was done? So when
    its report's title, ``opening`` and the headings above ``p`` name every concept of the topic and
    ``p``'s own heading names none ("2022年上半年工业园区意识形态工作怎么抓的？" over "(二)强化理论学习…" of
    "…工业园区党工委2022年上半年意识形态工作情况"); not when the heading names one ("…年度党建是怎么做的？"
    over "1.年度党建情况": that item is what is asked)."""
    rest = normalize(" ".join([p.get("title") or "", opening, _parent(p)[1]]))
    own = normalize(_heading(p))
    return (bool(topic.needed) and all(_names(rest, c) for c in topic.needed)
            and not any(_names(own, c) for c in topic.needed))


def _lead(text: str, first: str) -> str:
    """The line that opens a list in a passage: the last non-empty line before its first item."""
    lines = [line for line in text[:text.find(first)].split("\n") if line.strip()]
    return lines[-1] if lines else ""


def _section_items(p: dict, top: list[dict], roles: list[str], topic: Topic, own: bool = False) -> list[Quote]:
    """The items of the section ``p`` belongs to that answer the question's ``topic`` (``on_topic``): the items
    ``p`` enumerates, else the clauses of its paragraph playing the role asked, else the parts its one
    sentence lists in a row closed by the kind of part asked (``_in_a_row``), else the single-item
    passages among ``top`` under the same heading as ``p``, headed by the kind of marker ``p`` is, each
    number once (one of them picked alone — or ``p`` alone ranked, its own heading picking it out,
    ``_heading_picks`` —: its substance, ``_body_sentences``, when it has prose). At least two, or one
    the topic picks out, or the one item of a section whose heading plays the role asked; ``own`` (a work
    question): only ``p``'s own items, two or more, else the sentences of its prose body when its heading
    picks it out, else — when the question asks for the whole list ``p`` is one item of
    (``_asks_whole_list``) — the single-item passages of that list, in the report's order."""
    opening = " ".join([_opening(p, top), _kinds_said(p, topic.needed, topic.thing)])  # what the report says of itself
    whole = False  # a work question asking for the whole list p is one item of (``_asks_whole_list``)
    pieces = _pieces(p) if p.get("section_type") in roles or not roles else []
    lead = _lead(p["text"], pieces[0]) if pieces else ""
    if len(pieces) < 2:
        for paragraph in _role_paragraphs(p, roles):
            start, clauses = _clauses(paragraph, roles)
            if len(clauses) >= 2:
                lead, pieces = start, clauses
                break
    if not pieces and topic.kind:
        lead, pieces = _in_a_row(p, topic.kind)  # "从A、B、C等方面…"
    if not pieces and "problem" in roles:
        # a paragraph states the problems in one sentence: a 述职报告's closing one, a government report's review
        whole = [(paragraph, sentence) for paragraph in _role_paragraphs(p, roles)
                 if (sentence := _shortfall_stated(paragraph, roles))]
        if len(whole) == 1:
            paragraph, sentence = whole[0]
            if on_topic(topic, p, [sentence], paragraph[:paragraph.find(sentence)], opening) == [0]:
                return [Quote(sentence, p["rank"])]
    if pieces and len(pieces) < len(counted := _counted_list(lead)):
        pieces = counted  # the lead states the whole list; the items below it are cut off (a web copy)
    if own and len(pieces) == 1 and (bare := _bare_heading(pieces[0])) and _heading_picks(
            topic, p, opening, bare[0], "".join(bare[1])):
        # the passage is one item, a bare heading before its substance ("三是强化督促检查。结合…"): its
        # sentences answer when that heading picks it out
        return [Quote(t, p["rank"]) for t in bare[1]]
    if own and len(pieces) < 2:
        body = _body_sentences(p)  # its substance said in sentences, not items
        if body and _heading_picks(topic, p, opening, body="".join(body)):
            pieces, lead = body, _heading(p)
        elif _asks_whole_list(topic, p, opening):
            pieces, whole = [], True  # the question names nothing its place leaves unnamed: the whole list
        else:
            return []
    if len(pieces) >= 2 or (len(pieces) == 1 and roles and p.get("section_type") in roles
                            and not _own_heading(p, pieces[0]) and _whole(pieces[0], p["text"])
                            and (_opens_list(pieces[0]) or _tells(topic, p, pieces[0], lead, opening))):
        # one item answers when its section plays the role asked by its heading ("三、存在的问题" over
        # "一是……" only: the rest of the list is not in the report, or not in this section), it opens
        # its list or the question asks for it by name (an "二是" alone is one part of a list ranked
        # elsewhere: it answers "…在拓宽消费领域方面采取了哪些措施？", not "…采取了哪些措施？") and it says
        # at least one whole sentence (a web copy cut off inside its first item says nothing sure)
        picked = on_topic(topic, p, pieces, lead, opening)
        if len(picked) == 1 < len(pieces) and (prose := _headed_prose(pieces[picked[0]], p["text"])):
            return [Quote(t, p["rank"]) for t in prose]  # the one item asked for, by its substance
        return [Quote(t, p["rank"]) for t in dict.fromkeys(_item_texts(pieces, picked))]
    if not _parent(p)[1] and not _report_items(p):
        return []
    singles: dict[str, Quote] = {}
    texts = []
    marker = _kind(_single(p) or "")  # a list's items share one kind of marker; another kind is a point inside one
    for member in top:
        if _parent(member) == _parent(p) and _plays(member, roles) and _siblings(member, p):
            single = _single(member)
            # one item once: "（九）更大力度推动民生持续改善" and the same heading with its first sentence
            # and one list numbers each item once: a second "三是", or a passage enumerating a list of its
            # own, is another list's
            if (single and _kind(single) == marker and len(_own_items(member)) < 2
                    and not any(_same_item(single, kept) for kept in singles)
                    and _ordinal(single) not in {_ordinal(kept) for kept in singles}):
                singles[single] = Quote(single, member["rank"])
                texts.append(member["section"] + member["text"])
    if len(singles) < 2:
        if (body := _body_sentences(p)) and _heading_picks(topic, p, opening, body="".join(body)):
            return [Quote(t, p["rank"]) for t in body]  # the one item its heading names, by its substance
        return []
    parent = {**p, "section": _parent(p)[1] or p.get("title") or ""}
    quotes = list(singles.values())
    picked = [quotes[i] for i in on_topic(topic, parent, texts, opening=opening)]
    by_rank = {m["rank"]: m for m in top}
    if len(picked) == 1 and not whole and (body := _body_sentences(by_rank[picked[0].rank])):
        return [Quote(t, picked[0].rank) for t in body]  # the one item asked for, by its substance
    if whole:  # the items of a whole list, in the report's order ("(一)…", "(二)…"), as it reads
        picked.sort(key=lambda q: by_rank[q.rank]["start"])
    return picked


def list_items(question: str, passages: list[dict]) -> list[Quote]:
    """For a list question, the items of the one section that answers (see the module docstring):
    of the top passages that play the role asked and come from the unit and year asked, those of the
    first one's report whose section has items on the question's topic; of them, the items that with
    their place leave fewest of the topic's concepts unsaid, the highest ranked on a tie (one concept
    may go unsaid only when no list of that report says them all; a work question: the first one's own
    items or none)."""
    asked = asked_of(question)
    by_role = set(asked.roles) & _list_roles()
    lists = asked.is_list or bool(by_role)
    own = not asked.is_list and by_role == {"work"}  # a work question: the first passage's own items
    if not lists or (asked.quantity and not asks_which(question)) or not passages:
        return []
    top = passages[:TOP]
    if asked.only_role and not (asked.units or asked.years or asked.report_years) and len({p["source"] for p in top}) > 1:
        return []  # nothing but a role asked ("存在问题的原因是什么？"): no word picks one of the reports ranked
    fitting = [p for p in top if _plays(p, asked.roles) and _agrees(p, asked)]
    topic = Topic.of(question, passages)
    answered = []  # (concepts the passage's place and items leave unsaid, its items)
    for p in fitting:
        if p["source"] == fitting[0]["source"]:
            items = _section_items(p, top, asked.roles, topic, own)
            if own:
                return items
            if items:
                place = " ".join([_context(p), normalize(_opening(p, top)), *(normalize(q.text) for q in items)])
                answered.append((_unsaid(place, topic.needed), items))
    if answered:
        return min(answered, key=lambda a: a[0])[1]
    if asked.roles == ["cause"] and not asked.only_role:
        return _causes_given(top, asked, topic)
    return []


def _because(piece: str) -> list[str]:
    """The sentences of an item that give a cause ("由于…，致使…", "主观上…"; data/answer_cues.txt ``because``)."""
    return [m.group().strip() for m in SENTENCE.finditer(piece) if _cue("because").search(normalize(m.group()))]


def _causes_given(top: list[dict], asked: Question, topic: Topic) -> list[Quote]:
    """For a cause question that names its problem ("个别党员放松思想改造，原因出在哪？"), when no section
    of causes answers: the sentences giving a cause inside the one item that states that problem, of the
    top passage's report and outside its sections of causes — a "存在问题及原因" section gives each
    problem's cause in its own item ("…由于…主观上…，致使个别党员放松了思想改造…"). A passage whose
    heading is an item ("（一）…思想认识不到位。") has its body, before any item it enumerates, as one.
    The item that says most of the topic (``_said``) is the one; none when no item says it, or two
    say it alike, or the item gives no cause."""
    for p in top:
        if p["source"] != top[0]["source"] or not _agrees(p, asked) or _plays(p, asked.roles):
            continue  # a section of causes answers by its own items (``_section_items``) or not at all
        pieces = _pieces(p)
        if ITEM_START.match(_heading(p)):
            pieces = [p["text"][:p["text"].find(pieces[0])] if pieces else p["text"], *pieces]
        unsaid = [_unsaid(normalize(piece), topic.needed) for piece in pieces]
        least = min(unsaid, default=None)
        fewest = [piece for piece, n in zip(pieces, unsaid) if n == least]
        if len(fewest) == 1 and _said(normalize(fewest[0]), topic.needed) and (reasons := _because(fewest[0])):
            return [Quote(r, p["rank"]) for r in reasons]
    return []


@lru_cache(maxsize=1)
def _asking_honours() -> re.Pattern:
    """"哪些" / "什么" a few characters before a noun naming honours (data/answer_cues.txt ``honours``)."""
    return re.compile(rf"(?:哪些|哪几|什么|啥|何种)[^，,。？?；;]{{0,6}}?(?:{_cue('honours').pattern})")


def asks_honours(question: str) -> bool:
    """Does a question ask which honours were won ("拿过哪些荣誉", "得过哪些市级荣誉", "获得过什么荣誉"), not
    whether any was ("有获奖吗") nor about a word holding one ("有哪些措施增强荣誉感")?"""
    return bool(_asking_honours().search(normalize_question(question)))


def honours_given(question: str, passages: list[dict]) -> list[Quote]:
    """For a question asking which honours were won (``asks_honours``): the sentences stating an honour
    ("先后荣获“…先进集体”等荣誉称号", "被评为…"; data/answer_cues.txt ``honoured``) of the one passage ranked
    highest, of the top passage's report and the unit and year asked, that states any — a report gives its
    honours in one place, most often its opening paragraph — when that passage, its report's title and its
    headings say what else the question names (its naming words: "象山社区", not "拿过"). None otherwise."""
    if not passages or not asks_honours(question):
        return []
    asked = asked_of(question)
    honours = _cue("honours")
    needed = [c for c in asked_concepts(question)
              if not all(honours.fullmatch(w) for w in c.words) and any(is_naming(w) for w in c.words)]
    top = passages[:TOP]
    for p in top:
        if p["source"] != top[0]["source"] or not _agrees(p, asked):
            continue
        stated = [m.group().strip() for m in SENTENCE.finditer(p["text"]) if _cue("honoured").search(normalize(m.group()))]
        if stated:
            place = " ".join([normalize(p["text"]), _context(p), normalize(_opening(p, top))])
            return [Quote(s, p["rank"]) for s in dict.fromkeys(stated)] if _said(place, needed) else []
    return []


def direct_answer(question: str, passages: list[dict]) -> Answer | None:
    """The direct answer shown above the passages: a figure sentence, else the honours asked, else list
    items (the first ``MAX_ITEMS``: a list or an item's substance longer than that is read in its passage),
    else none. Each quote cites the passage shown; passages joining sections are read as ``sections_read``."""
    read, shown = sections_read(passages, asked_of(question).is_list)
    figure = figure_sentence(question, read)
    if figure is not None:
        return Answer("figure", [Quote(figure.text, shown[figure.rank])])
    items = honours_given(question, read) or list_items(question, read)
    return Answer("list", [Quote(q.text, shown[q.rank]) for q in items[:MAX_ITEMS]]) if items else None


def sections_read(passages: list[dict], lists: bool = False) -> tuple[list[dict], dict[int, int]]:
    """The passages as answers read them, ranked anew, and the rank of the passage shown for each. One
    that joins sections (its ``parts``, ``search.lists.merge_siblings``) is read as those sections, each
    its own passage, in the order they ranked — so a question about one of them is answered by that
    one alone —; but a section shown whole with its items for a list question (``lists``) is read whole,
    its items with their substance. A run of a report's outermost sections is no section: read as its
    parts always ("（一）…（二）…（三）…" of a short report under no heading)."""
    read: list[dict] = []
    shown: dict[int, int] = {}
    for p in passages:
        parts, text, above = p.get("parts") or [], p["text"], p.get("section") or ""
        at = {heading: text.find(heading) for heading in parts}
        pieces = [p]
        if len(at) > 1 and not (lists and above) and min(at.values()) >= 0:
            starts = sorted(at.values())
            ends = {s: e for s, e in zip(starts, [*starts[1:], len(text)])}
            pieces = [{**p, "text": text[s if s > starts[0] else 0:ends[s]],
                       "section": f"{above} › {heading}" if above else heading, "parts": [],
                       "start": p["start"] + (s if s > starts[0] else 0), "end": p["start"] + ends[s]}
                      for heading, s in at.items()]  # in the order its parts ranked
        for piece in pieces:
            read.append({**piece, "rank": len(read) + 1})
            shown[len(read)] = p["rank"]
    return read, shown
