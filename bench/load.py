"""`python -m bench --load`: searches from many clients while reports are uploaded and the index rebuilt.

A real `python app.py serve` on loopback (a free port, never another host) over a copy of the seed
reports, indexed before the server starts. For ``seconds`` (default 60), ``clients`` threads
(default 16) each send `/search` requests through gradio_client back to back; meanwhile one more
client uploads two new reports and asks for a rebuild. Reported: requests, failures, latency
percentiles of `/search`, requests per second, the server's memory (start, peak, end), how long
the uploads and the rebuild took, and the server's CPU: seconds in all and milliseconds per search
(its user + system time over the searches answered, the uploads and rebuild included as in every
run: the figure a shared machine's other load does not inflate, unlike latency). Nothing is
asserted: this measures (issue 15: 0 failed requests, p95 of `/search`, memory flat; issue 24: CPU
per search).

``compare`` (``--load-vs DIR``): the same run alternately on this checkout and on another one
(say a worktree of the previous main), ``rounds`` times each, so that both meet the same machine;
the medians of each side and their ratio are reported.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .common import SEEDS, machine, new_report_text, percentile, questions

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return float("nan")


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) the server has used: a figure other load cannot inflate."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "gradio_api/info", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("server did not answer in time")


def warm_up(client, timeout: float = 300) -> None:
    """Measure the steady state: the startup index run (in the background) has ended, the model is loaded."""
    deadline = time.monotonic() + timeout
    while client.predict(api_name="/status").get("indexing"):
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not finish its startup index run in time")
        time.sleep(1)
    client.predict(questions()[0], 5, api_name="/search")


def run(seconds: float = 60, clients: int = 16, workdir: Path | None = None, checkout: Path = ROOT,
        corpus_work: bool = True, new_questions: bool = False) -> dict:
    """One load run against a server of ``checkout`` (its app.py; this bench drives it);
    ``corpus_work`` False: searches only, no uploads or rebuild; ``new_questions``: every request a
    question not asked before (a bench question with its number added: "…？（第37问）"), so that no
    per-question cache answers any part of it."""
    from gradio_client import Client, handle_file

    root = Path(workdir or tempfile.mkdtemp(prefix="yandu-load-"))
    corpus, index = root / "corpus", root / "index"
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in sorted(SEEDS.glob("*.txt")):
        shutil.copy2(seed, corpus / seed.name)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GRADIO_ANALYTICS_ENABLED": "False",
           "NO_PROXY": "127.0.0.1,localhost"}
    env.pop("YANDU_AUTH", None)
    subprocess.run([sys.executable, "app.py", "index", "--corpus", str(corpus), "--index-dir", str(index)],
                   cwd=checkout, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = open(root / "server.log", "w", encoding="utf-8")
    server = subprocess.Popen([sys.executable, "app.py", "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--corpus", str(corpus), "--index-dir", str(index)],
                              cwd=checkout, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(url, server)
        warm_up(Client(url, verbose=False))
        return {"checkout": str(checkout), "new_questions": new_questions,
                **_load(url, server.pid, root, seconds, clients, Client, handle_file, corpus_work, new_questions)}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)


def _load(url: str, pid: int, root: Path, seconds: float, clients: int, Client, handle_file,
          corpus_work: bool = True, new_questions: bool = False) -> dict:
    qs = questions()
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    memory = [server_rss_mb(pid)]
    events: dict[str, float] = {}

    def searcher(n: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as e:  # a client that cannot even connect is a failure too (a busy machine: a timeout)
            with lock:
                failures.append(f"client: {type(e).__name__}: {e}"[:200])
            return
        k = n
        while not stop.is_set():
            question = qs[k % len(qs)] + (f"（第{k}问）" if new_questions else "")
            k += clients
            began = time.perf_counter()
            try:
                passages = client.predict(question, 5, api_name="/search")
                ok = isinstance(passages, list)
                error = "" if ok else f"unexpected answer {type(passages).__name__}"
            except Exception as e:  # every failure is counted and its first words kept
                ok, error = False, f"{type(e).__name__}: {e}"[:200]
            with lock:
                if ok:
                    latencies.append(time.perf_counter() - began)
                else:
                    failures.append(error)

    def corpus() -> None:
        """Two uploads and a rebuild, spread over the run."""
        client = Client(url, verbose=False)
        text = new_report_text()
        for n, at in enumerate((0.1, 0.35)):
            while not stop.is_set() and time.monotonic() - t0 < at * seconds:
                time.sleep(0.2)
            path = root / f"上传报告{n + 1}.txt"
            path.write_text(text.replace("新增述职报告（基准测试）", f"新增述职报告（负载测试{n + 1}）")
                            .replace("；", "；" if n == 0 else "。"), encoding="utf-8")
            began = time.perf_counter()
            try:
                client.predict([handle_file(str(path))], api_name="/add_reports")
                events[f"upload_{n + 1}_s"] = round(time.perf_counter() - began, 1)
            except Exception as e:
                failures.append(f"upload: {type(e).__name__}: {e}"[:200])
        while not stop.is_set() and time.monotonic() - t0 < 0.6 * seconds:
            time.sleep(0.2)
        began = time.perf_counter()
        try:
            client.predict(api_name="/rebuild_index")
            events["rebuild_s"] = round(time.perf_counter() - began, 1)
        except Exception as e:
            failures.append(f"rebuild: {type(e).__name__}: {e}"[:200])

    cpu0 = server_cpu_s(pid)
    t0 = time.monotonic()
    threads = [threading.Thread(target=searcher, args=(n,), daemon=True) for n in range(clients)]
    if corpus_work:
        threads.append(threading.Thread(target=corpus, daemon=True))
    for t in threads:
        t.start()
    while time.monotonic() - t0 < seconds:
        time.sleep(1)
        memory.append(server_rss_mb(pid))
    stop.set()
    for t in threads:
        t.join(timeout=120)
    memory.append(server_rss_mb(pid))
    cpu = server_cpu_s(pid) - cpu0
    wall = time.monotonic() - t0
    ms = [x * 1000 for x in latencies]
    return {
        "clients": clients, "seconds": round(wall, 1), "requests": len(latencies) + len(failures),
        "searches": len(latencies),
        "failed": len(failures), "failures": sorted(set(failures))[:5],
        "search_p50_ms": round(percentile(ms, 50)), "search_p95_ms": round(percentile(ms, 95)),
        "search_max_ms": round(max(ms)) if ms else None, "requests_per_s": round(len(latencies) / wall, 1),
        "server_cpu_s": round(cpu, 1), "cpu_ms_per_search": round(1000 * cpu / len(latencies), 1) if latencies else None,
        "corpus_work": corpus_work, "loadavg": round(os.getloadavg()[0], 1),
        "rss_start_mb": memory[0], "rss_peak_mb": max(memory), "rss_end_mb": memory[-1], **events,
    }


def render(result: dict) -> str:
    work = "two uploads and a rebuild" if result.get("corpus_work", True) else "searches only"
    work += ", every question new" if result.get("new_questions") else ""
    lines = [f"load: {result['clients']} clients × {result['seconds']} s on loopback, {work}"
             + (f" ({result['checkout']})" if result.get("checkout") not in (None, str(ROOT)) else ""),
             f"  server CPU {result['cpu_ms_per_search']} ms per search ({result['server_cpu_s']} s over "
             f"{result['searches']} searches{', uploads and rebuild included' if result.get('corpus_work', True) else ''})",
             f"  /search requests {result['requests']}, failed {result['failed']}, "
             f"{result['requests_per_s']}/s; p50 {result['search_p50_ms']} ms, p95 {result['search_p95_ms']} ms, "
             f"max {result['search_max_ms']} ms",
             f"  server memory: start {result['rss_start_mb']} MB, peak {result['rss_peak_mb']} MB, "
             f"end {result['rss_end_mb']} MB; machine load average {result['loadavg']}",
             "  " + ", ".join(f"{k} {v}" for k, v in result.items() if k.startswith(("upload", "rebuild")))]
    lines += [f"  failure: {f}" for f in result["failures"]]
    return "\n".join(lines)


COMPARED = ("cpu_ms_per_search", "search_p50_ms", "search_p95_ms", "requests_per_s")


def compare(seconds: float, clients: int, other: Path, rounds: int, corpus_work: bool = True,
            new_questions: bool = False) -> dict:
    """This checkout (A) and ``other`` (B) in turn, A B A B …: each side's runs, medians and A/B."""
    runs: dict[str, list[dict]] = {"this": [], "other": []}
    for n in range(rounds):
        for side, checkout in (("this", ROOT), ("other", Path(other).resolve())):
            result = run(seconds, clients, checkout=checkout, corpus_work=corpus_work, new_questions=new_questions)
            print(f"round {n + 1}, {side}:\n" + render(result), flush=True)
            runs[side].append(result)
    median = {side: {k: percentile([r[k] for r in rs], 50) for k in COMPARED} for side, rs in runs.items()}
    ratio = {k: round(median["this"][k] / median["other"][k], 2) if median["other"][k] else None for k in COMPARED}
    return {"this": str(ROOT), "other": str(Path(other).resolve()), "rounds": rounds, "runs": runs,
            "median": median, "ratio_this_to_other": ratio,
            "failed": sum(r["failed"] for rs in runs.values() for r in rs)}


def render_compare(result: dict) -> str:
    m, ratio = result["median"], result["ratio_this_to_other"]
    lines = [f"load, side by side ({result['rounds']} rounds each, alternating): this = {result['this']}, "
             f"other = {result['other']}",
             "| figure (median) | this | other | this / other |", "| --- | --- | --- | --- |"]
    lines += [f"| {k} | {m['this'][k]:.1f} | {m['other'][k]:.1f} | {ratio[k]} |" for k in COMPARED]
    return "\n".join(lines)


def main(seconds: float, clients: int, vs: Path | None = None, rounds: int = 1, corpus_work: bool = True,
         new_questions: bool = False) -> dict:
    if vs is not None:
        result = {**compare(seconds, clients, vs, rounds, corpus_work, new_questions), "machine": machine()}
        print(render_compare(result))
        return result
    result = {**run(seconds, clients, corpus_work=corpus_work, new_questions=new_questions), "machine": machine()}
    print(render(result))
    return result
