"""What the site benchmarks share (`bench/site.py`, `bench/site-weight.py`): where the release
generator and the theme are, the benchmarks' clock, and running a command for its wall time and
peak memory."""

import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "target", "release", "tiketa-gen")
THEME = os.path.join(ROOT, "themes", "time-gallery")
NOW = "2026-11-24T08:00:00+07:00"


def timed(argv, **kw):
    """Runs argv; returns (seconds, peak RSS of the process in MiB, stdout). Stops the benchmark
    with the command's stderr if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{err.decode()}")
    return elapsed, usage.ru_maxrss / 1024, out.decode()


def gen(command, content, out, db, now=NOW):
    """`tiketa-gen <command>` on `content` with the theme, into `out` and `db`, timed."""
    return timed([GEN, command, "--content", content, "--theme", THEME, "--out", out, "--db", db, "--now", now])
