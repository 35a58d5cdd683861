"""Helpers shared by the benchmark runs: corpora, questions, timing, memory, sizes, cold start."""
from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from retrieval.config import ROOT
from retrieval.eval.questions import BENCH, DEV_QUESTIONS, load_jsonl
from retrieval.eval.run import copy_corpus

SEEDS = ROOT / "corpus"

# Questions a reader of government work reports asks, added to the seed dev questions so the
# latency sample also exercises the national and provincial reports.
EXTRA_QUESTIONS = [
    "国内生产总值预期增长目标是多少？", "如何推进乡村振兴？", "政府工作存在哪些问题和不足？", "今年经济社会发展的主要预期目标",
    "怎样稳定和扩大就业？", "生态环境保护取得了哪些成效？", "下一步工作打算", "财政赤字率安排", "如何深化国有企业改革？",
    "科技创新方面有哪些举措？", "城镇新增就业多少万人？", "居民消费价格涨幅控制在多少？", "加强党风廉政建设的措施",
    "教育工作取得了哪些进展？", "农村贫困人口减少了多少？", "对外开放有哪些新举措？", "医疗卫生体制改革", "粮食产量达到多少？",
    "第一个五年计划的基本任务是什么？", "意识形态工作责任制落实情况",
]

NEW_REPORT_NAME = "新增报告.txt"


def questions() -> list[str]:
    dev = [q["question"] for q in load_jsonl(DEV_QUESTIONS)] if DEV_QUESTIONS.exists() else []
    return dev + EXTRA_QUESTIONS


def bench_files() -> list[Path]:
    """Every report of ../shared/bench (.txt and .docx), sorted."""
    if not BENCH.exists():
        return []
    return sorted(p for p in BENCH.rglob("*") if p.is_file() and p.suffix.lower() in (".txt", ".docx"))


def make_corpus(target: Path, with_bench: bool) -> int:
    """Copy the seeds (and the shared bench reports, in their folders) into `target`. Returns the file count."""
    return copy_corpus(target, ((SEEDS, ""), (BENCH, "")) if with_bench and BENCH.exists() else ((SEEDS, ""),))


def new_report_text() -> str:
    """A seed-sized report none of whose passages is in the embedding cache yet: seed 001 with a new
    title and its punctuation changed (every chunk's matching text differs, so every chunk is embedded)."""
    seed = sorted(SEEDS.glob("001_*.txt"))[0].read_text(encoding="utf-8")
    lines = seed.splitlines()
    text = "\n".join(["新增述职报告（基准测试）"] + lines)
    return text.replace("。", "；").replace("，", "、")


def forget(app) -> None:
    """Empty the per-question caches (a checkout without them has nothing to empty)."""
    from retrieval.search import searcher

    answers = getattr(app, "answers", None)
    if answers is not None:
        answers.clear()
    vectors = getattr(app.searcher, "vectors", None)
    if vectors is not None:
        vectors.clear()
    if hasattr(searcher, "understood"):
        searcher.understood.cache_clear()


def rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def index_mb(index_dir: Path) -> float:
    """The index on disk: segments and the generations kept (the embedding cache is reported apart)."""
    return round(sum(p.stat().st_size for p in Path(index_dir).rglob("*")
                     if p.is_file() and p.name != "embeddings.sqlite") / 2**20, 1)


def folder_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 2**20, 1)


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


class Clock:
    """Wall and CPU (user + system) seconds of a block."""

    def __enter__(self) -> "Clock":
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def cold_start(corpus: Path, index_dir: Path, question: str, repeats: int, env: dict | None = None) -> dict:
    """`python app.py query …` on an existing index: process start → answer printed and exited.

    The OS file cache is warm (the index and model were just used); the process is new each time.
    """
    cmd = [sys.executable, str(ROOT / "app.py"), "query", question, "--corpus", str(corpus),
           "--index-dir", str(index_dir), "--top-k", "5"]
    times, rss, first_line = [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryFile() as errfile:
            proc = subprocess.run([sys.executable, str(Path(__file__).with_name("launch.py")), *cmd],
                                  stdout=subprocess.PIPE, stderr=errfile, env={**os.environ, **(env or {})}, cwd=ROOT)
            errfile.seek(0)
            err = errfile.read()
        try:
            facts = json.loads(proc.stdout.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            facts = {"rc": proc.returncode, "lines": 0}
        if facts["rc"] != 0 or not facts["lines"]:
            raise RuntimeError(f"cold-start query failed ({facts['rc']}): {err.decode(errors='replace')[-2000:]}")
        if b"added" in err or b"rebuilt" in err:  # it re-indexed: the figure would not be a cold start
            raise RuntimeError(f"cold-start query re-indexed instead of answering: {err.decode(errors='replace')[-500:]}")
        times.append(facts["wall"])
        first_line.append(facts["first"])
        rss.append(facts["rss_mb"])
    return {"cold_start_s": round(percentile(times, 50), 2), "cold_start_all_s": [round(t, 2) for t in times],
            "cold_first_line_s": round(percentile(first_line, 50), 2),
            "query_process_rss_mb": round(max(rss), 1)}


def machine() -> dict:
    import numpy

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")) / 2**20
    except (OSError, StopIteration):
        mem = float("nan")
    versions = {}
    for name in ("onnxruntime", "torch", "sentence_transformers", "faiss", "bm25s"):
        try:
            from importlib.metadata import version

            versions[name] = version({"faiss": "faiss-cpu", "sentence_transformers": "sentence-transformers"}.get(name, name))
        except Exception:
            versions[name] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem, 1), "python": platform.python_version(),
            "numpy": numpy.__version__, **versions, "loadavg_start": loadavg()}
