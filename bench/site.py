#!/usr/bin/env python3
"""The site generator's benchmark: `make bench` (or `python3 bench/site.py [N ...]`).

For each catalog size it builds a synthetic catalog (the real one for 21 films), then measures,
in one run on this machine:
  - cold build: `tiketa-gen roll` into an empty output folder and a new database; wall time
    and peak memory (the process's max RSS);
  - its floor: `cp -r` of the finished output into an empty folder (`dist` is a symlink to the
    published build folder: `-H` copies what it points to, `.gz`/`.br` variants included);
  - a re-roll that changes nothing, and its floor: `find -H -printf` that stats every file;
  - a roll three hours later (the cron job's usual case: started showtimes archived, their
    pages removed, the index and film pages changed), and its floor: `cp -al`, hard-linking
    every file of the site into a new folder, which a build that changes anything does;
  - (21 films) a one-film edit picked up by `tiketa-gen watch`: the rebuild time the watcher
    reports and the time from the edit to the rebuilt line.
Prints a Markdown table for BENCHMARKS.md. Needs the release binary: `cargo build --release`.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from measure import GEN, NOW, ROOT, THEME, gen, timed

LATER = "2026-11-24T11:00:00+07:00"


def measure(films, work):
    content = os.path.join(ROOT, "content") if films == 21 else os.path.join(work, f"content-{films}")
    if films != 21:
        timed([GEN, "synth-content", "--films", str(films), "--into", content, "--content", os.path.join(ROOT, "content")])
    out, db, copy = (os.path.join(work, f"{x}-{films}") for x in ("out", "db", "copy"))
    cold, rss, line = gen("roll", content, out, db)
    pages = line.split("site: ")[1].split(" pages")[0]
    floor_cp, _, _ = timed(["cp", "-rH", out, copy])
    shutil.rmtree(copy)
    reroll = statistics.median(gen("roll", content, out, db)[0] for _ in range(3))
    stat_floor = statistics.median(
        timed(["find", "-H", out, "-printf", "%s %T@\n"])[0] for _ in range(3)
    )
    link_floor, _, _ = timed(["cp", "-alH", out, copy])
    shutil.rmtree(copy)
    later, _, later_line = gen("roll", content, out, db, LATER)
    row = {
        "films": films, "pages": pages, "cold": cold, "cp": floor_cp, "rss": rss,
        "reroll": reroll, "stat": stat_floor, "later": later, "link": link_floor,
        "later_line": later_line.strip(),
    }
    remove_output(out)
    return row


def remove_output(out):
    """Removes an output: the `dist` symlink and the build folders beside it."""
    parent, name = os.path.split(out)
    os.remove(out)
    shutil.rmtree(os.path.join(parent, f".{name}.builds"))


def measure_watch(work):
    """A one-film edit under `tiketa-gen watch` on the real 21-film catalog."""
    content = os.path.join(work, "watch-content")
    shutil.copytree(os.path.join(ROOT, "content"), content)
    out, db = os.path.join(work, "watch-out"), os.path.join(work, "watch-db")
    proc = subprocess.Popen(
        [GEN, "watch", "--content", content, "--theme", THEME, "--out", out, "--db", db, "--now", NOW],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
    )
    try:
        for line in proc.stdout:
            if line.startswith("watching"):
                break
        film = os.path.join(content, "films", "akira.md")
        reported, end_to_end = [], []
        for i in range(7):
            time.sleep(0.3)
            start = time.perf_counter()
            with open(film, "a") as f:
                f.write(f"\nAn edit, number {i}.\n")
            for line in proc.stdout:
                if "pages written" in line:
                    end_to_end.append(time.perf_counter() - start)
                    reported.append(float(line.rsplit(" in ", 1)[1].split(" s")[0]))
                    written = line.split("site: ")[1].split(" pages")[0]
                    break
        return statistics.median(reported), statistics.median(end_to_end), written
    finally:
        proc.terminate()
        proc.wait()


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [21, 1000, 10000]
    if not os.path.exists(GEN):
        sys.exit("no release binary: run `cargo build --release` (or `make bench`) first")
    work = tempfile.mkdtemp(prefix="tiketa-bench-", dir=os.environ.get("BENCH_DIR"))
    try:
        rows = [measure(n, work) for n in sizes]
        watch = measure_watch(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"Machine: {os.cpu_count()} cores; `python3 bench/site.py {' '.join(map(str, sizes))}`\n")
    print("| films | files | cold build | `cp -r` floor | ratio | peak memory | no-change re-roll | `stat` floor | ratio | roll 3 h later | `cp -al` floor | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['films']:,} | {int(r['pages']):,} | {r['cold']:.2f} s | {r['cp']:.2f} s | {r['cold'] / r['cp']:.2f}x "
            f"| {r['rss']:.0f} MiB | {r['reroll']:.3f} s | {r['stat']:.3f} s | {r['reroll'] / r['stat']:.2f}x "
            f"| {r['later']:.2f} s | {r['link']:.2f} s | {r['later'] / r['link']:.2f}x |"
        )
    for r in rows:
        verdict = "met" if r["rss"] <= 64 else "missed"
        print(f"\n{r['films']:,} films: cold build {r['cold'] / r['cp']:.2f}x its `cp -r` floor (target 1.0x); "
              f"peak memory {r['rss']:.0f} MiB against the 64 MiB target: {verdict}", end="")
    print()
    for r in rows:
        print(f"\n{r['films']:,} films, the roll 3 h later: `{r['later_line']}`", end="")
    print()
    reported, end_to_end, written = watch
    print(
        f"\n`watch`, one-film edit (21 films, median of 7): rebuild {reported * 1000:.0f} ms as reported, "
        f"{end_to_end * 1000:.0f} ms from the write to the rebuilt line (includes the debounce); {written} files rewritten."
    )


if __name__ == "__main__":
    main()
