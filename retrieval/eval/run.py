"""`app.py eval`: score Yandu and the generic RAG pipeline side by side with the project's own scorer.

Several question sets on the corpus and index the settings name (the index is updated, not rebuilt,
so a second run reuses it and its embedding cache), or on the shared corpora ``CORPUS_SETS`` builds
under a cache folder (``seeds``, ``bench`` = seeds + ../shared/bench, ``all`` = + party_web).
Rows per set, genre (party-building or government: ``question_genre``) and system; each also on
its odd- and even-numbered questions apart: ranking is tuned on the odd ones only, and the even
ones show whether a change holds on questions it was not tuned on. ``derived`` adds the questions
``derive.py`` draws from the corpus's own reports (kept apart from the public sets; written to the
cache folder, never to the repository). ``ablations`` re-scores Yandu with one part switched off at
a time (a ``Settings`` override each).
"""
from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import Callable

from ..config import ROOT, Settings
from .answers import answer_scores, snapshot_reports
from .baseline import baseline_results
from ..ingest import corpus_files
from .metrics import score
from .questions import BENCH, PARTY_WEB, SEEDS, genre_of, load_jsonl

log = logging.getLogger(__name__)

SHOWN = ("hit@1", "hit@3", "hit@5", "mrr@10", "items@3", "noise_rate")
GENRES = ("party", "gov")
CACHE = ROOT / "cache" / "eval"  # corpus sets and derived questions (git-ignored)
# The genre of every question of a public set (a set not named here: each question's own "genre",
# else its gold report's: seeds and party_web are party-building, bench government).
SET_GENRES = {"dev_questions": "party", "party_dev_questions": "party", "gov_dev_questions": "gov"}
# Shared corpora by name: (folder of ../shared, sub-folder of the corpus it goes to) — the layout of
# bench.common.make_corpus (seeds at the top, bench's own folders beside them), party_web in its own.
CORPUS_SETS = {"seeds": ((SEEDS, ""),), "bench": ((SEEDS, ""), (BENCH, "")),
               "all": ((SEEDS, ""), (BENCH, ""), (PARTY_WEB, "party_web"))}
# One part of the pipeline switched off at a time (what each part adds). What each ranking signal adds is
# measured by retraining without it: python app.py train-ranker --ablation.
ABLATIONS: dict[str, dict] = {
    "no paraphrases": {"use_paraphrases": False},
    "no list completion": {"list_completion": False},
}


def yandu_results(app, questions: list[dict], top_k: int) -> list[dict]:
    """Yandu's answers (``app``: the Yandu facade, or a Searcher over its index)."""
    if hasattr(app, "ensure_index"):
        app.ensure_index()
    return [{"id": q["id"], "passages": [p.to_json() for p in app.search(q["question"], top_k).passages]}
            for q in questions]


def parity(question: dict, position: int) -> str:
    """"odd" or "even": by the number in the question's id (g07 → odd), else by its position (1-based)."""
    m = re.search(r"(\d+)\D*$", str(question.get("id", "")))
    return "odd" if (int(m.group(1)) if m else position) % 2 else "even"


def set_scores(questions: list[dict], results: list[dict]) -> dict:
    """The scorer's metrics for one group of questions."""
    ids = {q["id"] for q in questions}
    return score(questions, [r for r in results if r["id"] in ids])[0]


def halves(questions: list[dict]) -> dict[str, list[dict]]:
    """All questions, the odd-numbered and the even-numbered ones (a half only when it has any)."""
    out = {"all": questions}
    for half in ("odd", "even"):
        part = [q for i, q in enumerate(questions, 1) if parity(q, i) == half]
        if part:
            out[half] = part
    return out


def split_scores(questions: list[dict], results: list[dict]) -> dict[str, dict]:
    """Scores on all questions, on the odd-numbered and on the even-numbered ones."""
    return {half: set_scores(part, results) for half, part in halves(questions).items()}


def question_genre(set_name: str, question: dict) -> str:
    """"party" or "gov": by the set, else the question's own genre, else its first gold report's."""
    if set_name in SET_GENRES:
        return SET_GENRES[set_name]
    if question.get("genre") in GENRES:
        return question["genre"]
    return next((g for g in (genre_of(gold["doc"]) for gold in question.get("gold", [])) if g), "other")


def by_genre(set_name: str, questions: list[dict]) -> dict[str, list[dict]]:
    """A set's questions by genre, genres in GENRES order (then any other)."""
    groups: dict[str, list[dict]] = {}
    for q in questions:
        groups.setdefault(question_genre(set_name, q), []).append(q)
    return {g: groups[g] for g in sorted(groups, key=lambda g: (GENRES + (g,)).index(g))}


def copy_corpus(target: Path, sources: tuple[tuple[Path, str], ...]) -> int:
    """Copy the reports (.txt, .docx) of each (folder, sub-folder) into ``target``/sub-folder, keeping
    the folder's own layout, unless already there; real files, since the indexer does not follow
    links out of the corpus. Returns the number of reports."""
    n = 0
    for folder, sub in sources:
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: not present")
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".txt", ".docx")):
            dest = target / sub / path.relative_to(folder)
            if not dest.exists() or dest.stat().st_size != path.stat().st_size:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
            n += 1
    return n


def corpus_set(name: str, cache: Path) -> tuple[Path, Path]:
    """(corpus, index folder) of a shared corpus by name, under ``cache``; the index beside the
    corpus is kept from run to run, so only the first run embeds."""
    corpus, index = cache / name / "corpus", cache / name / "index"
    copy_corpus(corpus, CORPUS_SETS[name])
    return corpus, index


def derived_set(settings: Settings, cache: Path | None) -> Path:
    """The derived questions over the settings' corpus, written under ``cache`` (else the index
    folder): never into the repository (derived over party_web they are third-party data)."""
    from .derive import derive_questions  # imported here: ``python -m retrieval.eval.derive`` stays clean

    questions = derive_questions(settings.corpus_dir)
    folder = cache or settings.index_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"derived_{settings.corpus_dir.resolve().parent.name}_{settings.corpus_dir.name}.jsonl"
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    log.info("%d derived questions → %s", len(questions), path)
    return path


def run_eval(settings: Settings, question_paths: list[Path], top_k: int = 10, baseline: bool = True,
             ablations: bool = False, derived: bool = False, corpus_sets: list[str] = (),
             cache: Path | None = None) -> str:
    """The metrics table (one row per set, genre, half and system) as text, its JSON on the last line;
    with ``corpus_sets``, one table per shared corpus (built under ``cache``)."""
    if corpus_sets:
        cache = Path(cache or CACHE)
        out = []
        for name in corpus_sets:
            corpus, index = corpus_set(name, cache)
            out.append(run_eval(settings.with_overrides(corpus_dir=corpus, index_dir=index), question_paths,
                                top_k, baseline, ablations, derived, (), cache))
        return "\n\n".join(out)
    from ..engine import Yandu
    from ..search import Searcher

    app = Yandu(settings)
    paths = list(question_paths) + ([derived_set(settings, cache)] if derived else [])
    present = {Path(name).name for name in corpus_files(settings.corpus_dir)[0]}
    table: dict[str, dict] = {}
    answers: dict[str, dict] = {}
    app.ensure_index()
    reports = snapshot_reports(app.searcher.snapshot())  # what the direct-answer scorer checks reports against
    notes: list[str] = []
    for path in paths:
        name = "derived" if derived and path == paths[-1] else path.stem
        loaded = load_jsonl(path)
        questions = [q for q in loaded if any(Path(g["doc"]).name in present for g in q["gold"])]
        if len(questions) < len(loaded):
            notes.append(f"{name}: {len(loaded) - len(questions)} questions left out (their reports are not in this corpus)")
        if not questions:
            continue
        results = {"yandu": yandu_results(app, questions, top_k)}
        groups = by_genre(path.stem, questions)
        answers[name] = {genre: {half: answer_scores(part, results["yandu"], reports) for half, part in halves(group).items()}
                         for genre, group in groups.items()}
        if baseline:
            results["generic RAG"] = baseline_results(settings, app.encoder, questions, top_k)
        if ablations:
            for label, override in ABLATIONS.items():
                variant = Searcher(settings.with_overrides(**override), app.encoder)  # same index and model
                results[label] = yandu_results(variant, questions, top_k)
        table[name] = {genre: {system: split_scores(group, r) for system, r in results.items()}
                       for genre, group in groups.items()}
    return "\n".join([format_table(table, settings.corpus_dir, answers), *notes])


def format_table(table: dict[str, dict], corpus: Path, answers: dict[str, dict] | None = None) -> str:
    """Markdown rows of {set: {genre: {system: {half: metrics}}}}, then the same as JSON."""
    extra = list(dict.fromkeys(k for genres in table.values() for row in genres.values() for scores in row.values()
                               for m in scores.values() for k in m
                               if k not in SHOWN and k not in ("n", "recall@5", "mean_len")))
    shown = list(SHOWN) + extra
    lines = [f"corpus {corpus}", "| set | genre | questions | system | n | " + " | ".join(shown) + " |",
             "|---|---|---|---|---|" + "---|" * len(shown)]
    for name, genres in table.items():
        for genre, row in genres.items():
            for half in ("all", "odd", "even"):
                for system, scores in row.items():
                    m = scores.get(half)
                    if m:
                        cells = " | ".join(str(m.get(k, "")) for k in shown)
                        lines.append(f"| {name} | {genre} | {half} | {system} | {m['n']} | {cells} |")
    if answers:  # direct answers (eval/answers.py): right / given, and how many figure or list questions get one
        lines += ["", "| set | genre | questions | direct answers | right | precision | figure/list questions | coverage |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {name} | {genre} | {half} | {a['answers']} | {a['right']} | {a['precision']} | {a['asked']} | {a['coverage']} |"
                  for name, genres in answers.items() for genre, by_half in genres.items() for half, a in by_half.items()]
    lines.append("json: " + json.dumps({**table, "direct answers": answers or {}}, ensure_ascii=False))
    return "\n".join(lines)
