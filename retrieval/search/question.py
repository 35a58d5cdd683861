"""Question understanding: what a question asks for, read from its wording alone.

`understand` reads, in one place: the section role it asks about (问题 → problem, 原因 → cause,
下一步 → plan, 做法 → work) and whether it asks for nothing but that role; the units it names
(宁夏 → 宁夏回族自治区, data/units.txt; an organ of the index without its level where a clause opens with it:
组织部 → 市委组织部, ``names_unit``) and the kinds of unit (乡, 镇, 学校; data/unit_types.txt); the years it is about and the report years it names
("2025年政府工作报告" names a report, "2024年粮食产量" a year; 今年/去年/明年 count from the newest
report — of the unit or kind of unit named, ``searcher.anchor_year`` —; 十四五 is 2021–2025); whether it asks for a target or a plan rather than a result; whether
it asks for a list (有哪些, 哪几个, 存在哪些问题); for how-many questions the unit counted; and the
official terms for its everyday wording (data/paraphrases.txt).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..ingest.years import CN_DIGIT, cn_number, five_year_plan
from ..text import Concept, concepts, expand, normalize, official_terms, tab_rows, tokenize, unit_aliases, units_named
from .unit_types import asked_types

MAX_QUESTION = 2000  # characters used from a question; the rest is ignored (and said so)



def _intent_rows() -> list[tuple[str, re.Pattern, str]]:
    """(role, pattern, example question) of data/intent.txt, in file order."""
    return [(role, re.compile(pattern), example) for role, pattern, example in tab_rows("intent.txt")]


INTENT_ROWS = _intent_rows()
INTENT: list[tuple[str, re.Pattern]] = [(role, pattern) for role, pattern, _ in INTENT_ROWS]

# Asking for a target, a plan or a task set for a year, not for what was achieved in it.
TARGET = re.compile(r"目标|预期|计划|打算|安排|任务|要办|要完成|要达到|将|定为|定在|提出|部署|力争|确定|(?<![模虚比])拟")
LIST = re.compile(r"哪些|哪几|包括什么|都有什么|都是什么|几个方面|几方面|清单")
LIST_ROLES = {"problem", "cause"}
GENERIC = re.compile(r"^(?:\d+|年|年度|工作|情况|方面|主要|具体|存在)$")  # words that do not narrow a role question

ARABIC_YEAR = re.compile(r"(?<![\d第])(1[89]\d\d|20\d\d)(?=\s*年)")
CN_YEAR = re.compile(r"([零〇○一二三四五六七八九]{4})(?=年)")
# A year that names a report: "2025年政府工作报告", "一九五七年的报告", "2023年度述职报告".
# A year that opens a report's name ("2022年市委组织部机关党委书记机关党建述职"): party-building titles name a
# unit and an office before the kind of report, so up to 20 characters may come between.
REPORT_YEAR = re.compile(r"^[度的\s]{0,2}(?:[^\s，。？、]{0,20}?)(?:政府工作报告|报告|述职|总结)")
ASKING = re.compile(r"哪|什么|啥|咋|为何|怎|如何|多少|几|吗|呢|[？?]")  # a clause that asks, not one that sets the scene
SAME_YEAR = re.compile(r"当年|同年|本年|该年")
RELATIVE = {"前年": -2, "去年": -1, "上年": -1, "今年": 0, "本年度": 0, "明年": 1, "来年": 1}
FIVE_YEAR = re.compile(r"([一二三四五六七八九十]{1,3})五(?:规划|计划|时期|期间)?")
FIVE_YEAR_QUOTED = re.compile(r"[“\"]([一二三四五六七八九十]{1,3})五[”\"]|([一二三四五六七八九十]{1,3})五(?:规划|计划|时期|期间)")

# The level an organ's name starts with ("市委组织部", "市局党组"). Its own staff leave it out when the
# organ opens what they say ("组织部机关今后…", "…时期，局党组…"); elsewhere the bare name may end another
# organ's ("县委组织部", "林业局党组").
LEVEL = re.compile(r"^(?:中共)?[省市县区乡镇]委?")
CLAUSE_START = r"(?:^|(?<=[\s，,。；;：:、？?！!“”\"]))"


@dataclass(frozen=True)
class Question:
    """What a question asks for; every field is soft evidence for ranking, never a filter."""

    text: str  # matching form (normalised)
    tokens: list[str]  # keyword tokens, synonyms and official terms included
    roles: list[str] = field(default_factory=list)  # section roles asked about
    only_role: bool = False  # asks for nothing but that role ("存在问题的原因是什么？")
    units: list[str] = field(default_factory=list)  # official names of the units named
    unit_types: frozenset[str] = frozenset()  # the kinds of unit named (乡, 镇, 学校 …; unit_types.py)
    years: frozenset[int] = frozenset()  # years the answer is about
    report_years: frozenset[int] = frozenset()  # years of the reports named
    relative: frozenset[int] = frozenset()  # 今年/去年/明年 that no report anchors: offsets from each report's own year
    target: bool = False  # asks for a target / plan / task, not a result
    is_list: bool = False  # asks for every item of a list
    quantity: str | None = None  # how-many questions: the unit counted, as a regex
    official: list[str] = field(default_factory=list)  # official terms for its everyday wording
    concepts: list[Concept] = field(default_factory=list)  # what it asks about (not which unit or year)

    @property
    def dense_text(self) -> str:
        """What the embedder reads: the question, then the official terms of its everyday wording."""
        return " ".join([self.text, *self.official])


def intent(question: str) -> list[str]:
    """Section roles a question asks about: per clause that asks something ("为什么…，具体有哪些问题？"
    asks for causes and problems), else in the whole question; in each, the first row that matches
    wins (原因 beats 问题 in "问题的原因")."""
    clauses = [c for c in re.split(r"[，,；;]", question) if ASKING.search(c)]
    roles = [r for c in clauses for r in _first_role(c)] if len(clauses) > 1 else []
    return list(dict.fromkeys(roles or _first_role(question)))


def _first_role(text: str) -> list[str]:
    for role, pattern in INTENT:
        if pattern.search(text):
            return ["highlight", "work"] if role == "work" else [role]
    return []


def asks_only_role(text: str) -> bool:
    """A question with nothing but role words (years and generic words aside) asks for that kind of
    section itself ("存在问题的原因是什么？", "2023年的工作思路是什么？", "下步打算")."""
    for _, pattern in INTENT:
        text = pattern.sub(" ", text)
    return all(GENERIC.match(t) or len(t) == 1 for t in tokenize(text))


def cn_year(digits: str) -> int:
    """"一九五四" → 1954."""
    return int("".join(str(CN_DIGIT[c]) for c in digits))


def read_years(text: str, newest: int | None) -> tuple[set[int], set[int], set[int]]:
    """(years the question is about, years of the reports it names, and — with no ``newest`` to count
    今年/去年/明年 from — their offsets from each report's own year)."""
    about: set[int] = set()
    reports: set[int] = set()
    relative: set[int] = set()
    found = [(m.start(), m.end(), int(m.group(1))) for m in ARABIC_YEAR.finditer(text)]
    found += [(m.start(), m.end(), cn_year(m.group(1))) for m in CN_YEAR.finditer(text)]
    for _, end, year in found:
        after = text[end + 1:]  # past the 年
        (reports if REPORT_YEAR.match(after) else about).add(year)
    if SAME_YEAR.search(text):
        about |= reports
    for word, offset in RELATIVE.items():
        if word in text and newest:
            about.add(newest + offset)
        elif word in text:
            relative.add(offset)
    for m in FIVE_YEAR_QUOTED.finditer(text):
        first, last = five_year_plan(cn_number(m.group(1) or m.group(2)))
        about |= set(range(first, last + 1))
    return about, reports, relative


COUNTED = "名个次人场篇项家期批户条件所位元"
# "哪几条 / 哪几方面" asks which ones (a list: ``LIST``), never how many.
QUANTITY = re.compile(rf"(?:多少|(?<!哪)几)([{COUNTED}]?)|多大|多高|多长|多快|比重|占比|增速|增幅|增长率")
NUMBER = r"[0-9一二三四五六七八九十百千万两]+(?:\.\d+)?余?"
# Any counted or measured quantity: "3名", "76.28亿斤", "49.7%", "9048万千瓦", "400万亩".
ANY_UNIT = (rf"[万亿千百]?(?:[{COUNTED}斤吨亩台辆套座间张册株头只倍]|千瓦|公里|千米|平方米|立方米|公顷|千克"
            r"|%|％|个百分点)")
SENTENCE_END = re.compile(r"[。；！？\n]")


# How long: answered by a span of time ("三年", "6个月", "当年", "100天").
DURATION = re.compile(r"多久|多长时间|多少年|几年|几个月|多少天|几天")
DURATION_UNIT = r"个?(?:年|月|天|日|周|星期|小时)"


def quantity_unit(question: str) -> str | None:
    """For a how-many / how-much / how-long question, the unit asked about as a regex ("次"); None
    otherwise."""
    if DURATION.search(question):
        return DURATION_UNIT
    m = QUANTITY.search(question)
    if not m:
        return None
    if m.group(1) and m.group(1) != "个":
        return _alike().get(m.group(1), m.group(1))
    if m.group(0)[:2] != "多大":  # "几个同志" / "同志有几个": the measure word reports count them with
        for unit, nouns in _counted():
            if nouns.search(question[m.end():m.end() + 6]) or re.search(rf"(?:{nouns.pattern})的?(?:有|是|共|一共|总共|共有)?$", question[:m.start()]):
                return unit
    return ANY_UNIT


@lru_cache(maxsize=1)
def _alike() -> dict[str, str]:
    """measure word asked → the measure words a statement may count the same things with (data/measure_words.txt)."""
    return dict(tab_rows("measure_words.txt"))


@lru_cache(maxsize=1)
def _counted() -> list[tuple[str, re.Pattern]]:
    """(measure word as a regex, the nouns it counts) of data/counted.txt."""
    return [(unit, re.compile(nouns)) for unit, nouns in tab_rows("counted.txt")]


# Words that only say which year: the passage's metadata answers them, not its sentences.
YEAR_WORD = re.compile(r"^(?:(?:1[89]|20)\d\d|[零〇○一二三四五六七八九]{4}|年|年度|今年|去年|明年|前年|上年|来年|当年|本年度?)$")


@lru_cache(maxsize=1)
def _report_word() -> re.Pattern:
    """A word that names a kind of report (data/report_words.txt), not followed by what makes it a
    thing done ("汇报了", "述职会", "汇报制度")."""
    words = sorted((row[0] for row in tab_rows("report_words.txt")), key=len, reverse=True)
    return re.compile(f"(?:{'|'.join(map(re.escape, words))})(?![了过会制])")


@lru_cache(maxsize=1)
def asking_words() -> frozenset[str]:
    """Words that only ask ("差在哪", "做了啥", "述职里"; data/asking_words.txt): no concept or keyword of a question."""
    return frozenset(row[0] for row in tab_rows("asking_words.txt"))


def subject(text: str) -> list[Concept]:
    """The concepts of a question that say what it asks about: a concept that only names a unit
    ("宁夏"), a year ("2025", "去年") or the kind of report ("…述职里", data/report_words.txt) is
    left to the report's metadata (unit and year agreement, its title) — a sentence need not repeat
    them to answer; a word that only asks ("哪", ``asking_words``) is none."""
    aliases = unit_aliases()
    kinds = [m.group() for m in _report_word().finditer(text)]
    return [c for c in concepts(text) if not all(w in aliases or YEAR_WORD.match(w) for w in c.words)
            and c.words[0] not in asking_words()
            and not (_report_word().fullmatch(c.words[0]) and any(c.words[0] in k for k in kinds))]


def understand(text: str, newest_year: int | None = None, known_units: tuple[str, ...] = ()) -> Question:
    """Read a (normalised) question. ``newest_year`` anchors 今年/去年/明年 (else each report's own year
    does: ``Question.relative``); ``known_units`` are the
    units of the indexed reports, so a question naming an organ ("市委组织部") prefers its reports."""
    official = official_terms(text)
    tokens = [t for t in expand(tokenize(text)) if t not in asking_words()]
    tokens += [t for term in official for t in tokenize(term) if t not in tokens]
    roles = intent(text)
    units = units_named(text)
    units += [u for u in known_units if len(u) >= 3 and u not in units and names_unit(text, normalize(u))]
    about, reports, relative = read_years(text, newest_year)
    only_role = bool(roles) and asks_only_role(text)
    quantity = quantity_unit(text)
    # A list: list wording, a role asked for itself, or the problems / causes of something (answered by
    # the items of a 存在问题 / 原因 section) — never a how-many question.
    is_list = only_role or bool(LIST.search(text)) or (bool(set(roles) & LIST_ROLES) and not quantity)
    return Question(text=text, tokens=tokens, roles=roles, only_role=only_role, units=units,
                    unit_types=asked_types(text), years=frozenset(about), report_years=frozenset(reports),
                    relative=frozenset(relative), target=bool(TARGET.search(text)),
                    is_list=is_list, quantity=quantity, official=official, concepts=subject(text))


@lru_cache(maxsize=4096)
def _bare_name(unit: str) -> re.Pattern | None:
    """A (normalised) unit's name without its level, at the start of a clause; none when no level opens
    the name or what is left is shorter than three characters."""
    bare = LEVEL.sub("", unit)
    return re.compile(CLAUSE_START + re.escape(bare)) if bare != unit and len(bare) >= 3 else None


def names_unit(question: str, unit: str) -> bool:
    """Whether a (normalised) question names a unit of the index: whole, or without its level at the
    start of a clause, where what is left is a name of three characters or more (``_bare_name``)."""
    return unit in question or ((bare := _bare_name(unit)) is not None and bare.search(question) is not None)


def stating(unit: str) -> re.Pattern:
    """A number with that unit ("3名", "76.28亿斤", "三年"; web copies may space them: "有100 人以上党员",
    18 times in the eval corpora's .txt reports against 2,134 unspaced)."""
    return re.compile(NUMBER + " ?" + unit)


def says_quantity(sentence: str, tokens: list[str], pattern: re.Pattern) -> bool:
    """Does one (normalised) sentence give a number with the unit asked (``pattern``, from
    ``stating``) next to what was asked about (a term of 3+ characters, or two terms of the question)?"""
    if not pattern.search(sentence):
        return False
    found = [t for t in tokens if len(t) >= 2 and t in sentence]
    return len(found) >= 2 or any(len(t) >= 3 for t in found)


def states_quantity(text: str, tokens: list[str], unit: str, normalized: bool = False) -> bool:
    """Does one sentence of the passage say the quantity asked (``says_quantity``)? ``normalized``:
    ``text`` is in matching form already."""
    pattern = stating(unit)
    return any(says_quantity(sentence, tokens, pattern)
               for sentence in SENTENCE_END.split(text if normalized else normalize(text)))
