"""Section roles: what part of a report a section plays (成绩与做法 / 存在问题 / 原因分析 / 下步打算)."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ..text import DATA, tab_rows
from .document import Document, Section

# Strong cues: a heading that names the role. Checked on the heading text only.
ROLE_CUES: dict[str, re.Pattern] = {
    "problem": re.compile(r"存在(?:的)?(?:主要|突出)?问题|问题(?:和|与|及)?不足|不足|差距|短板|薄弱环节|存在问题|主要问题|问题清单"),
    "cause": re.compile(r"原因|根源|症结"),
    "plan": re.compile(
        r"下[一步]*步|打算|工作思路|工作计划|计划|努力方向|今后|明年|工作安排|工作重点|重点任务|工作设想|意见建议|"
        r"20\d\d年(?:度)?(?:的)?(?:工作|主要)?(?:思路|目标|任务|安排|部署|重点)|总体(?:要求|部署)|主要目标"
    ),
    "highlight": re.compile(r"特色|亮点|创新做法|经验"),
    "work": re.compile(r"成绩|成效|做法|开展情况|工作情况|履职|基本情况|主要工作|工作回顾|完成情况|落实情况|取得"),
}
MODIFIES = re.compile(r"(?:产生|存在|出现)?的")  # what joins a role to the role it qualifies
TOP_ORDER = ("highlight", "problem", "cause", "plan", "work")


def cues(heading: str) -> list[str]:
    """Roles a heading names, in the order they appear in it."""
    heading = unicodedata.normalize("NFKC", heading)
    found = []
    for role, pattern in ROLE_CUES.items():
        m = pattern.search(heading)
        if m:
            found.append((m.start(), m.end(), role))
    found.sort()
    # A role that qualifies the next one names no role of its own: "存在问题的原因分析" is about
    # causes, "存在的主要问题和原因分析" about both.
    roles = [role for i, (_, end, role) in enumerate(found)
             if not (i + 1 < len(found) and MODIFIES.fullmatch(heading[end:found[i + 1][0]]))]
    # 做法/成效 words are generic: in a combined heading the specific role wins ("特色亮点做法").
    return [r for r in roles if r != "work"] or roles


SPLIT_ROLES = ("problem", "cause", "plan")  # roles a combined heading hands to its items one by one


def assign_roles(doc: Document) -> None:
    """Type every section; children inherit unless they name a role of their own.

    A combined heading ("存在的问题及下一步打算", "存在主要问题及原因") gives its first role to its own
    lead text; each of its children plays the role it states (``split_role``): one naming a role, or
    stating a shortcoming ("（一）学习不够深入。"), or a cause, plays that role; the others play the
    heading's last role. Untyped top-level sections are `work` until the report turns to problems or
    plans, `other` after — or `plan` when the opening ends by turning to a plan ("…仍需警惕。下步，要聚焦…"
    above "（一）…（二）…"), until a heading names a role.
    """
    turned = False
    untyped = "plan" if _opens_plan(doc) else "work"
    for section in doc.sections:
        named = cues(section.heading)
        if named:
            section_type, child_type = named[0], named[-1]
            untyped = "work"
        else:
            section_type = child_type = "other" if turned else untyped
        turned = turned or (bool(named) and section_type in ("problem", "cause", "plan"))
        section.section_type = section_type
        combined = [r for r in named if r in SPLIT_ROLES]
        if len(set(combined)) > 1:
            for child in section.children:
                child.section_type = split_role(child.heading, doc.text[child.body_start:child.end], combined)
                _inherit(child.children, child.section_type)
        else:
            _inherit(section.children, child_type)


def _opens_plan(doc: Document) -> bool:
    """Does the last sentence before the first heading turn to a plan (data/role_cues.txt)?"""
    opening = doc.text[doc.preamble[0]:doc.preamble[1]].strip()
    last = re.findall(r"[^。！？!?\n]+[。！？!?]?", opening)
    return bool(last) and "plan" in paragraph_roles(last[-1])


def split_role(heading: str, text: str, roles: list[str]) -> str:
    """The role an item under a combined heading plays, of the heading's ``roles``: the one its own
    heading names, else problem when its heading (or first sentence) states a shortcoming
    (data/shortfall.txt), else cause when its first sentences state a cause (data/role_cues.txt),
    else the heading's last role."""
    named = [r for r in cues(heading) if r in roles]
    if named and _names_role(heading):
        return named[0]
    head = unicodedata.normalize("NFKC", heading if len(heading) > 6 else heading + text[:60])
    if "problem" in roles and shortfall().search(head):
        return "problem"
    if "cause" in roles and "cause" in paragraph_roles(text):
        return "cause"
    return roles[-1]


@lru_cache(maxsize=1)
def shortfall() -> re.Pattern:
    """Wording that states a shortcoming (data/shortfall.txt)."""
    words = [w for w in (DATA / "shortfall.txt").read_text(encoding="utf-8").split("\n") if w.strip() and not w.startswith("#")]
    return re.compile("|".join(w.strip() for w in words))


def _inherit(children: list[Section], parent_type: str) -> None:
    for child in children:
        named = cues(child.heading)
        # A child overrides only where the parent is not itself a problem/cause/plan section,
        # so "（二）解决群众急难问题" under 成绩 stays `work` unless it names a role outright.
        own = named[0] if named and parent_type in ("work", "other", "overview", "highlight") and _names_role(child.heading) else None
        child.section_type = own or parent_type
        _inherit(child.children, named[-1] if own else child.section_type)


def _names_role(heading: str) -> bool:
    """A heading that is about the role itself (short, or opens with it), not one that mentions it."""
    body = re.sub(r"^[\W\d一二三四五六七八九十]+", "", heading)
    return len(body) <= 14 or any(p.match(body) for p in ROLE_CUES.values())


PARAGRAPH_HEAD = re.compile(r"[^。！？!?]*[。！？!?]?[^。！？!?]*")  # a paragraph's first two sentences


@lru_cache(maxsize=1)
def paragraph_cues() -> list[tuple[str, re.Pattern]]:
    """(role, pattern) of wording that opens a paragraph of that role (data/role_cues.txt)."""
    return [(role, re.compile(pattern)) for role, pattern in tab_rows("role_cues.txt")]


def paragraph_roles(text: str) -> list[str]:
    """Roles the paragraphs of a passage state without a heading ("同时也要清醒看到…" → problem),
    read from the first two sentences of each paragraph; in order of first appearance."""
    found: list[str] = []
    for paragraph in unicodedata.normalize("NFKC", text).split("\n"):
        head = PARAGRAPH_HEAD.match(paragraph.strip()).group(0)
        for role, pattern in paragraph_cues():
            if role not in found and pattern.search(head):
                found.append(role)
    return found
