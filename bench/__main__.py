"""`python -m bench`: see bench/__init__.py. Each run is a worker process (`--worker NAME`)."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

RUNS = ("seeds", "bench", "scale", "ocr", "encoder")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description="Yandu benchmarks (see docs/BENCHMARKS.md)")
    p.add_argument("--only", action="append", default=[],
                   help="seeds, bench, scale, ocr, encoder or speedups; repeatable or comma-separated "
                        "(default: all but speedups)")
    p.add_argument("--quick", action="store_true", help="fewer queries and samples, scale at 20 000 chunks")
    p.add_argument("--speedups", action="store_true", help="also measure each speed-up against the state before it")
    p.add_argument("--scale-chunks", help="chunks in the scale runs, comma-separated (default 100000,1000000; "
                                          "20000 with --quick)")
    p.add_argument("--keep", action="store_true", help="keep the temporary corpora and indexes (path printed)")
    p.add_argument("--scale-dir", type=Path,
                   help="scale runs work in DIR/scale-N and keep it; a later run reuses the index built there")
    p.add_argument("--load", action="store_true",
                   help="instead: 16 clients search a loopback server for 60 s during two uploads and a rebuild")
    p.add_argument("--load-seconds", type=float, default=60)
    p.add_argument("--load-clients", type=int, default=16)
    p.add_argument("--load-vs", type=Path, metavar="DIR",
                   help="with --load: the same run alternately on this checkout and on DIR's (another worktree)")
    p.add_argument("--load-rounds", type=int, default=1, help="with --load-vs: runs of each side (default 1)")
    p.add_argument("--load-searches-only", action="store_true", help="with --load: no uploads, no rebuild")
    p.add_argument("--load-new-questions", action="store_true",
                   help="with --load: every request a question not asked before (no cache answers it)")
    p.add_argument("--profile", action="store_true",
                   help="instead: CPU per search by stage, in-process on the seed index (see bench/profile.py)")
    p.add_argument("--profile-rounds", type=int, default=5, help="times each question is asked (default 5)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def worker(args) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    args.workdir.mkdir(parents=True, exist_ok=True)
    try:
        if args.worker in ("seeds", "bench"):
            from .runs import run

            result = run(args.worker, args.workdir, args.quick)
        elif args.worker == "scale":
            from .scale import run

            result = run(args.workdir, args.quick, int(args.scale_chunks), args.cache)
        elif args.worker == "encoder":
            from .hardware import run

            result = run(args.workdir, args.quick)
        elif args.worker == "ocr":
            from .ocr import run

            result = run(args.workdir)
        elif args.worker == "speedups":
            from .speedups import run

            result = run(args.workdir, args.quick)
        else:
            raise SystemExit(f"unknown worker {args.worker}")
    except Exception:
        result = {"corpus": args.worker, "error": traceback.format_exc(limit=8)}
    args.out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    if args.profile:
        from .profile import main as profile

        print(json.dumps({"profile": profile(args.profile_rounds)}, ensure_ascii=False))
        return 0
    if args.load:
        from .load import main as load

        result = load(args.load_seconds, args.load_clients, args.load_vs, args.load_rounds,
                      not args.load_searches_only, args.load_new_questions)
        print(json.dumps({"load": result}, ensure_ascii=False))
        return 1 if result["failed"] else 0
    wanted = [w.strip() for item in args.only for w in item.split(",") if w.strip()] or list(RUNS)
    unknown = set(wanted) - {*RUNS, "speedups"}
    if unknown:
        print(f"unknown run(s): {', '.join(sorted(unknown))}; choose from {', '.join(RUNS)}, speedups", file=sys.stderr)
        return 2
    if args.speedups and "speedups" not in wanted:
        wanted.append("speedups")
    scale_chunks = [int(n) for n in (args.scale_chunks or ("20000" if args.quick else "100000,1000000")).split(",")]

    from .common import BENCH, machine
    from .report import render

    if "bench" in wanted and not BENCH.exists():
        print(f"note: {BENCH} is missing: the bench run is skipped", file=sys.stderr)
        wanted.remove("bench")
    info = machine()
    root = Path(tempfile.mkdtemp(prefix="yandu-bench-"))
    results, speedups, encoder_rates = [], None, None
    try:
        jobs = [(w, n) for w in (*RUNS, "speedups") if w in wanted for n in (scale_chunks if w == "scale" else [0])]
        for name, chunks in jobs:
            print(f"bench: {name} {chunks or ''}…", file=sys.stderr, flush=True)
            tag = f"{name}-{chunks}" if chunks else name
            out = root / f"{tag}.json"
            workdir = args.scale_dir / tag if name == "scale" and args.scale_dir else root / tag
            cmd = [sys.executable, "-m", "bench", "--worker", name, "--workdir", str(workdir), "--out", str(out),
                   "--scale-chunks", str(chunks)]
            if args.quick:
                cmd.append("--quick")
            cache = root / "bench" / "index" / "embeddings.sqlite"
            if name == "scale" and cache.exists():
                cmd += ["--cache", str(cache)]
            proc = subprocess.run(cmd, cwd=Path(__file__).resolve().parent.parent, stdout=sys.stderr)
            if out.exists():
                result = json.loads(out.read_text(encoding="utf-8"))
            else:
                result = {"corpus": name, "error": f"worker exited with {proc.returncode} and no result"}
            if "error" in result:
                print(f"bench: {name} failed:\n{result['error']}", file=sys.stderr)
            if name == "scale" and not args.keep and not args.scale_dir:  # a 1M-chunk corpus and index take GBs: not two at once
                shutil.rmtree(root / tag, ignore_errors=True)
            if name == "speedups":
                speedups = result
            elif name == "encoder":
                encoder_rates = result
            else:
                results.append(result)
    finally:
        if args.keep:
            print(f"bench: kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    info["loadavg_end"] = round(os.getloadavg()[0], 2)
    print(render(results, speedups, info, quick=args.quick, encoder=encoder_rates))
    payload = {"runs": results, "machine": info}
    if encoder_rates is not None:
        payload["encoder"] = encoder_rates
    if speedups is not None:
        payload["speedups"] = speedups
    print(json.dumps(payload, ensure_ascii=False))
    failed = [r for r in (*results, speedups, encoder_rates) if r and "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
