"""Yandu (研读) command line: serve the web chat, parse, index, query, eval.

    python app.py                      # web chat on http://127.0.0.1:7860 over ./corpus
    python app.py parse FILE [--json]
    python app.py index [--corpus DIR] [--index-dir DIR] [--rebuild]
    python app.py query "问题" [--top-k K] [--json] [--batch QUESTIONS.jsonl]
    python app.py eval QUESTIONS.jsonl [MORE.jsonl …] [--derived] [--corpus-set seeds|bench|all] [--ablation]
    python app.py derive [--corpus DIR] [--out FILE]   # questions derived from the reports' structure
    python app.py train-ranker --corpus DIR --index-dir DIR [--corpus DIR2 --index-dir DIR2] [--ablation]
    python app.py library [--json]            # the report library: every report, its figures or its error
    python app.py add FILE… | remove NAME | trash | restore NAME | purge NAME | reindex NAME
    python app.py compare "问题" [--year Y] [--data-year Y] [--report NAME] [--json]
    python app.py bundle --platform x86_64 --platform aarch64 --out dist/   # offline install archives
    python app.py kb list | create NAME [--title T] | rename NAME TITLE | delete NAME | trash | restore ENTRY
    python app.py query "问题" --base jijian --base default   # any command: --base picks the knowledge base(s)
    python app.py user|group|grant|revoke|grants|audit|token …   # accounts, grants per knowledge base, the audit log
    python app.py feedback export [--base B] [--since YYYY-MM-DD] [--out FILE]   # 👍/👎 as a question set
    python app.py report-usage [--since YYYY-MM-DD] [--csv [FILE]] [--json]   # what is asked, what fails
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

from retrieval.access import cli as access_cli
from retrieval.config import SECTION_TYPE_NAMES, Settings
from retrieval.encode import finish_loads
from retrieval.errors import YanduError
from retrieval.offline import enforce_offline


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", help="folder of reports (default: ./corpus)")
    p.add_argument("--index-dir", help="where the index lives (default: ./index)")
    p.add_argument("--model", help="sentence-transformers model name or folder (default: converted multilingual-e5-small)")
    p.add_argument("--store", help="local (default), milvus://HOST:PORT, http(s)://HOST:PORT or FILE.db (milvus-lite); "
                                   "env YANDU_STORE")
    p.add_argument("--base", action="append", default=[],
                   help="knowledge base (python app.py kb list); default: the default one; query and compare take several")
    p.add_argument("--bases-dir", help="where knowledge bases, accounts and the audit log live (default: ./bases)")


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--report", action="append", default=[], help="only this report (file name); repeatable")
    p.add_argument("--year", action="append", type=int, default=[], help="only reports of this year; repeatable")
    p.add_argument("--data-year", action="append", type=int, default=[],
                   help="only passages about this year (the 2024 figures of a 2025 report); repeatable")
    p.add_argument("--section-type", action="append", default=[], choices=list(SECTION_TYPE_NAMES),
                   help="only sections of this role; repeatable")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="app.py", description="Yandu: ranked, cited passages from work reports.")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("serve", help="web chat (the default command)")
    _common(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", help="user:password (required for a host other than 127.0.0.1; env YANDU_AUTH)")
    p.add_argument("--watch", action="store_true", help="re-index when files appear in or leave the corpus")

    p = sub.add_parser("parse", help="print a report's section tree, chunks and removed noise")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("index", help="bring the index in line with the corpus (incremental)")
    _common(p)
    p.add_argument("--rebuild", action="store_true", help="re-index everything")
    p.add_argument("--allow-empty", action="store_true",
                   help="let a missing or empty corpus folder empty the index (refused otherwise)")

    p = sub.add_parser("query", help="ask a question; a missing or stale index is updated first")
    _common(p)
    _filters(p)
    p.add_argument("question", nargs="?")
    p.add_argument("--batch", type=Path, help="JSONL with id and question per line")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("eval", help="score Yandu and a generic RAG baseline on question sets (odd/even halves apart)")
    _common(p)
    p.add_argument("questions", type=Path, nargs="*", help="JSONL question sets")
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--no-baseline", action="store_true", help="score Yandu only")
    p.add_argument("--ablation", action="store_true", help="also score Yandu with each ranking part switched off")
    p.add_argument("--derived", action="store_true",
                   help="also score the questions derived from the corpus's own reports (python -m retrieval.eval.derive)")
    p.add_argument("--corpus-set", action="append", default=[], choices=["seeds", "bench", "all"],
                   help="score on a shared corpus instead of --corpus: seeds, bench (seeds + ../shared/bench), "
                        "all (+ party_web); repeatable; copied and indexed under --cache")
    p.add_argument("--cache", type=Path, help="folder for corpus sets and derived questions (default: ./cache/eval)")

    p = sub.add_parser("derive", help="derive questions with gold spans from the structure of the corpus's reports")
    p.add_argument("--corpus", type=Path, default=Path("corpus"), help="folder of reports (default: ./corpus)")
    p.add_argument("--out", type=Path, help="JSONL file to write (default: standard output)")
    p.add_argument("--per-report", type=int, default=8)
    p.add_argument("--seed", type=int, default=21)

    p = sub.add_parser("train-ranker", add_help=False,
                       help="learn the ranking weights (cross-validated by report) into retrieval/data/ranker.json")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="see: python app.py train-ranker --help")

    p = sub.add_parser("library", help="list the reports: title, unit, year, kind, sections by role, passages, errors")
    _common(p)
    p.add_argument("name", nargs="?", help="one report: its section tree (the parse view)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("add", help="copy report files into the corpus (safe names, no duplicates) and index them")
    _common(p)
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--json", action="store_true")

    for name, text in (("remove", "move a report to the corpus's trash folder (recoverable) and drop it from the index"),
                       ("restore", "put a report back from the trash folder and index it"),
                       ("purge", "delete a file of the trash folder for good"),
                       ("reindex", "read one report again and re-index it")):
        p = sub.add_parser(name, help=text)
        _common(p)
        p.add_argument("name", help="file name (or path) in the trash" if name in ("restore", "purge")
                       else "file name in the corpus")
        p.add_argument("--json", action="store_true")
    p = sub.add_parser("trash", help="the files in the corpus's trash folder (removed reports)")
    _common(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("compare", help="one question across reports: each report's best passage, or 未找到")
    _common(p)
    _filters(p)
    p.add_argument("question")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("kb", help="knowledge bases: list, create, rename, delete (to the trash), restore")
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--bases-dir", help="where knowledge bases live (default: ./bases)")
    shared.add_argument("--json", action="store_true")
    kb = p.add_subparsers(dest="kb_command", required=True)
    kb.add_parser("list", parents=[shared], help="the knowledge bases with their reports and passages")
    q = kb.add_parser("create", parents=[shared], help="a new, empty knowledge base")
    q.add_argument("name", help="lowercase letters, digits, _ (starts with a letter)")
    q.add_argument("--title", default="", help="what users see (default: the name)")
    q = kb.add_parser("rename", parents=[shared], help="change a knowledge base's title")
    q.add_argument("name")
    q.add_argument("title")
    q = kb.add_parser("delete", parents=[shared], help="move a knowledge base (its reports and index) to the trash")
    q.add_argument("name")
    kb.add_parser("trash", parents=[shared], help="deleted knowledge bases")
    q = kb.add_parser("restore", parents=[shared], help="bring a deleted knowledge base back")
    q.add_argument("entry", help="its entry in: python app.py kb trash")

    p = sub.add_parser("bundle", help="build offline install archives (needs PyPI): wheels, converted model, install.sh")
    p.add_argument("--platform", action="append", choices=["x86_64", "aarch64"], required=True, help="repeatable")
    p.add_argument("--out", type=Path, default=Path("dist"))
    p.add_argument("--python", action="append", help="Python version(s) to carry wheels for (default: all supported)")
    p.add_argument("--no-ocr", action="store_true", help="leave out OCR (rapidocr, opencv): scanned pages are reported")
    p.add_argument("--milvus", action="store_true", help="add the Milvus client and milvus-lite")
    p.add_argument("--compression", choices=["xz", "gz", "zst"], help="default: gz (docs/BENCHMARKS.md)")
    p.add_argument("--cache", type=Path, help="wheel cache kept across runs (default: ~/.cache/yandu-bundle)")
    access_cli.add_parsers(sub)
    return parser


def installation(args) -> Settings:
    """The installation's settings: the default knowledge base's folders, the store, the model."""
    return Settings().with_overrides(corpus_dir=getattr(args, "corpus", None), index_dir=getattr(args, "index_dir", None),
                                     model=getattr(args, "model", None), store=getattr(args, "store", None),
                                     bases_dir=getattr(args, "bases_dir", None))


def settings_from(args) -> Settings:
    """The settings of the one knowledge base a command acts on (``--base``; default: the default one)."""
    from retrieval.bases import DEFAULT, BaseError, Bases

    settings = installation(args)
    chosen = list(dict.fromkeys(getattr(args, "base", None) or [DEFAULT]))
    if len(chosen) > 1:
        raise BaseError(f"this command acts on one knowledge base; got --base {' --base '.join(chosen)}")
    bases = Bases(settings)
    bases.info(chosen[0])  # an unknown name: one line
    return bases.settings_of(chosen[0])


def _several(args) -> bool:
    return len(set(getattr(args, "base", None) or [])) > 1


def cmd_parse(args) -> int:
    from retrieval.ingest import ReadError, ReadOptions, read_fenced

    progress, close_bar = _progress_bar()
    settings = settings_from(args)
    try:  # settings give the OCR switch, limits and the page cache (in the index folder)
        doc, chunks = read_fenced(Path(args.file), Path(args.file).name, None,
                                  ReadOptions.from_settings(settings, progress), settings.chunk_target, settings.chunk_max)
    except ReadError as e:
        print(e, file=sys.stderr)
        return 1
    finally:
        close_bar()
    if args.json:
        out = {"title": doc.title, "year": doc.year, "unit": doc.unit, "kind": doc.kind,
               "sections": [_section_json(s) for s in doc.sections],
               "removed": [asdict(r) for r in doc.removed],
               "chunks": [{**asdict(c), "section": c.section} for c in chunks]}
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    print(f"{doc.title}  (year: {doc.year or '-'}, unit: {doc.unit or '-'}, kind: {doc.kind or '-'}, "
          f"{len(chunks)} chunks)")
    for s in doc.walk():
        about = f" (about {s.years[0]}{'' if s.years[0] == s.years[1] else f'–{s.years[1]}'})" if s.years else ""
        print(f"{'  ' * s.level}[{s.section_type}] {s.heading}{about}")
    stated = [c for c in chunks if c.roles]
    if stated:
        print("\nroles stated by paragraphs (no heading names them):")
        for c in stated:
            print(f"  [{', '.join(c.roles)}] {c.section or '(preamble)'}: {c.text[:40]!r}")
    if doc.removed:
        print("\nremoved noise:")
        for r in doc.removed:
            print(f"  {r.rule}: {r.text[:80]!r}")
    return 0


def _section_json(s) -> dict:
    return {"level": s.level, "number": s.number, "heading": s.heading, "section_type": s.section_type,
            "years": list(s.years) if s.years else None,
            "start": s.start, "end": s.end, "children": [_section_json(c) for c in s.children]}


def _progress_bar():
    """A progress callback that shows bars for OCR (pages of one file) and embedding, and its closer."""
    from tqdm import tqdm

    from retrieval.progress import ProgressEvent, Stage

    bars: dict = {}
    shown = {Stage.OCR: "page", Stage.EMBEDDING: "chunk"}

    def update(event: ProgressEvent) -> None:
        if event.stage not in shown:
            return
        key = (event.stage, event.name)
        if key not in bars:
            desc = f"OCR {event.name}" if event.stage is Stage.OCR else "embedding"
            bars[key] = tqdm(total=event.total, unit=shown[event.stage], file=sys.stderr, mininterval=0.5, desc=desc)
        bar = bars[key]
        bar.total = event.total
        bar.n = event.done
        bar.refresh()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close


def cmd_index(args) -> int:
    from retrieval.engine import Yandu
    from retrieval.errors import IndexBusy

    progress, close_bar = _progress_bar()
    try:
        report = Yandu(settings_from(args)).index(rebuild=args.rebuild, progress=progress, allow_empty=args.allow_empty)
    except IndexBusy as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    finally:
        close_bar()
    for line in report.lines():
        print(line)
    return 2 if report.errors else 0


def _ready_bases(args):
    """The knowledge bases a question is asked in (``--base``, repeatable), each index brought up to date;
    index lines go to stderr. Returns (Bases, names)."""
    from retrieval.bases import DEFAULT, Bases

    bases = Bases(installation(args))
    names = list(dict.fromkeys(getattr(args, "base", None) or [DEFAULT]))
    for name in names:
        bases.info(name)
    for name in names:
        app = bases.get(name)
        app.warm_up()
        report = app.ensure_index()
        if report is not None:
            for line in report.lines():
                print(line, file=sys.stderr)
    return bases, names


def cmd_query(args) -> int:
    from retrieval.ingest import one_line
    from retrieval.errors import IndexBusy
    from retrieval.answer import direct_answer

    try:
        bases, names = _ready_bases(args)
    except IndexBusy as e:  # the first index is still being built by another process
        print(f"error: {e}", file=sys.stderr)
        return 3
    filters = {"reports": args.report, "years": args.year, "section_types": args.section_type,
               "data_years": args.data_year}

    def ask(question):
        if len(names) == 1:  # one base: exactly its own answer (passages without a base name)
            return bases.get(names[0]).search(question, args.top_k, **filters)
        return bases.search(question, names, args.top_k, **filters)

    if args.batch:
        with open(args.batch, encoding="utf-8") as f:
            items = [json.loads(line) for line in f if line.strip()]
        for item in items:
            result = ask(item["question"])
            print(json.dumps({"id": item["id"], "passages": [p.to_json() for p in result.passages]}, ensure_ascii=False))
        return 0
    if args.question is None:
        print("error: give a question, or --batch FILE", file=sys.stderr)
        return 1
    # Bytes that are not UTF-8 arrive as lone surrogates, which neither the model nor stdout take.
    question = args.question.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    result = ask(question)
    passages = [p.to_json() for p in result.passages]
    direct = direct_answer(question, passages)  # the web chat's direct answer, quoted above the passages
    if args.json:
        print(json.dumps({"question": question, "message": result.message, "direct": direct and direct.to_json(),
                          "passages": passages}, ensure_ascii=False, indent=1))
        return 0
    if result.message:
        print(result.message)
    if direct is not None:
        print("直接回答：")
        for n, quote in enumerate(direct.quotes, 1):
            print(f"  {'' if direct.kind == 'figure' else f'{n}. '}{one_line(quote.text)} [{quote.rank}]")
    for p in result.passages:
        # the citation line is one line whatever a report's title holds (names are escaped already)
        where = f"{p.base} · " if p.base else ""
        print(f"\n[{p.rank}] {where}{one_line(p.title)} › {one_line(p.section) or '（导语）'}  "
              f"〔{SECTION_TYPE_NAMES[p.section_type]}〕 {p.source}")
        print(p.text)
    return 0


def cmd_eval(args) -> int:
    from retrieval.eval import run_eval

    if not args.questions and not args.derived:
        print("error: name a question set (JSONL) or --derived", file=sys.stderr)
        return 1
    missing = [str(q) for q in args.questions if not q.is_file()]
    if missing:
        print(f"error: no such question set: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(run_eval(settings_from(args), args.questions, args.top_k, baseline=not args.no_baseline,
                   ablations=args.ablation, derived=args.derived, corpus_sets=args.corpus_set, cache=args.cache))
    return 0


def cmd_train_ranker(args) -> int:
    from retrieval.eval.train import main as train

    return train(args.rest)


def cmd_derive(args) -> int:
    from retrieval.eval.derive import main as derive

    return derive(["--corpus", str(args.corpus), "--per-report", str(args.per_report), "--seed", str(args.seed)]
                  + (["--out", str(args.out)] if args.out else []))


def _emit(args, data, lines: list[str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        print("\n".join(lines))


def cmd_library(args) -> int:
    from retrieval.engine import Yandu

    app = Yandu(settings_from(args))
    if args.name:
        outline = app.outline(args.name)

        def walk(sections, depth=0):
            for s in sections:
                yield f"{'  ' * depth}[{s['section_type']}] {s['heading']}"
                yield from walk(s["children"], depth + 1)

        _emit(args, outline, [f"{outline['title']}  ({outline['passages']} passages)", *walk(outline["sections"])])
        return 0
    rows = app.library()
    lines = []
    for r in rows:
        roles = ", ".join(f"{SECTION_TYPE_NAMES[t]} {n}" for t, n in r.sections.items())
        state = f"error: {r.error}" if r.error else f"{r.passages} passages; {roles}"
        lines.append(f"{r.source}\t{r.title}\t{r.unit or '-'}\t{r.year or '-'}\t{r.kind}\t{state}")
    _emit(args, [r.to_json() for r in rows], lines)
    return 2 if any(r.error for r in rows) else 0


def _index_after(app, args, **kwargs):
    """Index after a change to the corpus; the report's lines go to stderr, the result to stdout."""
    report = app.index(**kwargs)
    for line in report.lines():
        print(line, file=sys.stderr)
    return report


def cmd_add(args) -> int:
    from retrieval.engine import Yandu

    app = Yandu(settings_from(args))
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"error: not a file: {', '.join(missing)}", file=sys.stderr)
        return 1
    uploads = app.add_files(args.files)
    report = _index_after(app, args) if any(u.outcome == "saved" for u in uploads) else None
    out = []
    for u in uploads:
        r = u.to_json()
        if u.outcome == "saved" and report is not None and u.name in report.errors:
            r.update(outcome="unreadable", reason=report.errors[u.name])
        out.append(r)
    _emit(args, out, [f"{r['original']}: {r['outcome']}" + (f" as {r['name']}" if r["name"] else "")
                      + (f" ({r['reason']})" if r["reason"] else "") for r in out])
    return 0 if all(r["outcome"] in ("saved", "duplicate") for r in out) else 2


def cmd_remove(args) -> int:
    from retrieval.engine import Yandu

    app = Yandu(settings_from(args))
    target = app.remove_report(args.name)
    _index_after(app, args)
    trashed = target.relative_to(app.settings.corpus_dir).as_posix()
    _emit(args, {"source": args.name, "trashed": trashed},
          [f"{args.name}: moved to {trashed} (restore with: app.py restore {json.dumps(trashed, ensure_ascii=False)})"])
    return 0


def cmd_restore(args) -> int:
    from retrieval.engine import Yandu

    app = Yandu(settings_from(args))
    name = app.restore_report(args.name)
    _index_after(app, args)
    _emit(args, {"source": name}, [f"{args.name}: restored as {name}"])
    return 0


def cmd_purge(args) -> int:
    from retrieval.engine import Yandu

    app = Yandu(settings_from(args))
    name = app.purge_report(args.name)
    _emit(args, {"source": name}, [f"{args.name}: deleted for good"])
    return 0


def cmd_trash(args) -> int:
    from retrieval.engine import Yandu

    rows = Yandu(settings_from(args)).trash()
    _emit(args, rows, [f"{r['path']}\t{time.strftime('%Y-%m-%d %H:%M', time.localtime(r['removed']))}"
                       for r in rows] or ["(the trash is empty)"])
    return 0


def cmd_reindex(args) -> int:
    from retrieval.engine import Yandu

    app = Yandu(settings_from(args))
    report = app.reindex_report(args.name, progress=None)
    for line in report.lines():
        print(line, file=sys.stderr)
    info = next((r for r in app.library() if r.source == args.name), None)
    data = {"source": args.name, "passages": info.passages if info else 0,
            "error": report.errors.get(args.name)}
    _emit(args, data, [f"{args.name}: " + (f"error: {data['error']}" if data["error"] else f"{data['passages']} passages")])
    return 2 if data["error"] else 0


def cmd_compare(args) -> int:
    bases, names = _ready_bases(args)
    rows = bases.compare(args.question, names, args.report, args.year, args.section_type, args.data_year)
    lines = []
    for base, r in rows:
        p = r.passage
        where = f"{base} · " if len(names) > 1 else ""
        lines.append(f"{where}{r.title}（{r.year or '-'}）: " + (f"[{p.section or '导语'}] {' '.join(p.text.split())[:120]}"
                                                               if p else "未找到"))
    _emit(args, [{**r.to_json(), **({"base": base} if len(names) > 1 else {})} for base, r in rows], lines)
    return 0


def cmd_kb(args) -> int:
    from retrieval.bases import Bases

    bases = Bases(installation(args))
    what = args.kb_command
    if what == "list":
        rows = []
        for info in bases.infos():
            s = bases.get(info.name).status()
            rows.append({**info.to_json(), "reports": s["reports"], "passages": s["chunks"]})
        _emit(args, rows, [f"{r['name']}\t{r['title']}\t{r['reports']} reports, {r['passages']} passages\t{r['corpus']}"
                           for r in rows])
    elif what == "create":
        info = bases.create(args.name, args.title)
        _emit(args, info.to_json(), [f"{info.name}: created ({info.title}); add reports with: "
                                     f"python app.py add FILE… --base {info.name}"])
    elif what == "rename":
        info = bases.rename(args.name, args.title)
        _emit(args, info.to_json(), [f"{info.name}: now titled {info.title}"])
    elif what == "delete":
        target = bases.delete(args.name)
        if (bases.root / "access.sqlite").exists():  # a later base of the same name must not inherit its grants
            from retrieval.access import AccessStore

            AccessStore(bases.root / "access.sqlite").drop_base(args.name, by="cli")
        _emit(args, {"name": args.name, "trashed": target.name},
              [f"{args.name}: moved to the trash as {target.name} (restore with: python app.py kb restore {target.name})"])
    elif what == "trash":
        rows = bases.trash()
        _emit(args, rows, [f"{t['entry']}\t{t['title']}" for t in rows] or ["(the trash is empty)"])
    else:
        info = bases.restore(args.entry)
        _emit(args, info.to_json(), [f"{info.name}: restored ({info.title})"])
    return 0


def cmd_bundle(args) -> int:
    from bundle import BundleOptions, build_bundle

    given = {k: v for k, v in (("pythons", tuple(args.python or ())), ("compression", args.compression),
                               ("cache", args.cache)) if v}
    try:
        options = [BundleOptions(platform, args.out, ocr=not args.no_ocr, milvus=args.milvus, **given)
                   for platform in dict.fromkeys(args.platform)]
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for option in options:
        try:
            result = build_bundle(option)
        except RuntimeError as e:
            print(f"error: {option.platform}: {e}", file=sys.stderr)
            return 1
        times = ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
        print(f"{result.archive}  {result.size / 1e6:.0f} MB, {result.wheels} wheels ({times})")
    return 0


def cmd_serve(args) -> int:
    from retrieval.web import serve

    return serve(settings_from(args), host=args.host, port=args.port, auth=args.auth, watch=args.watch)


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("retrieval").setLevel(logging.INFO)
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv or argv[0].startswith("--") and argv[0] not in ("-h", "--help"):
        argv = ["serve", *argv]
    if argv[0] == "train-ranker":  # its own options, its own --help
        return cmd_train_ranker(argparse.Namespace(rest=argv[1:]))
    args = parser.parse_args(argv)
    commands = {"serve": cmd_serve, "parse": cmd_parse, "index": cmd_index, "query": cmd_query, "eval": cmd_eval,
                "derive": cmd_derive, "train-ranker": cmd_train_ranker,
                "library": cmd_library, "add": cmd_add, "remove": cmd_remove, "restore": cmd_restore,
                "purge": cmd_purge, "trash": cmd_trash, "reindex": cmd_reindex, "compare": cmd_compare,
                "bundle": cmd_bundle, "kb": cmd_kb,
                **access_cli.COMMANDS}
    try:
        code = commands[args.command](args)
        sys.stdout.flush()  # a reader gone early ("… | head") shows here, not as a traceback at exit
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # "… | head": the reader has what it wanted; no traceback at exit either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports it
    except YanduError as e:  # one clear line, not a traceback, for anything a user can cause or fix
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        finish_loads()


if __name__ == "__main__":
    sys.exit(main())
