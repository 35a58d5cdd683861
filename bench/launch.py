"""Run a command and report, as one JSON line on stdout, its wall time to exit and to its first line of
output, and its own peak RSS. A small launcher process is needed for the RSS: a child forked from the
(large) benchmark process inherits its high-water mark."""
import json
import resource
import subprocess
import sys
import time

start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
first, lines = None, 0
for line in proc.stdout:
    if first is None and line.strip():
        first = time.perf_counter() - start
    lines += 1
proc.wait()
print(json.dumps({"wall": time.perf_counter() - start, "first": first, "lines": lines, "rc": proc.returncode,
                  "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
