#!/usr/bin/env python3
"""The site's weight beside its Hugo twin: `make bench` (or `python3 bench/site-weight.py [N ...]`).

For each catalog size (default 21 and 10,000 films) it synthesises the content (the real catalog
for 21 films), then in one run on this machine:
  - builds our site: `tiketa-gen roll` into an empty folder and a new database (time, peak RSS);
  - builds the Hugo twin (bench/hugo-twin/, see its README.md) from the same films, one content
    file per showtime of that database, our build's assets and posters copied as they are
    (time, peak RSS);
  - weighs both: the bytes of our site's files (originals, and separately the .gz/.br variants
    it writes beside them; Hugo writes none, so originals are compared to originals), the
    booking pages (/book/*/index.html, median and max, against the 12 KB target) and the
    largest files (against the 200 KB limit on any page or reply).
Needs the release binary (`cargo build --release`) and Hugo (`apt-get install hugo`, 0.111.3).
BENCH_DIR=... puts the work folders elsewhere than the system's temporary folder (a 10,000-film
run writes about 9.6 GB for our site, removed before Hugo starts, then 8 GB for Hugo's; Hugo
needs about 7 GiB of memory there; smaller sizes: `python3 bench/site-weight.py 21 1000`).
"""

import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import tomllib
from datetime import datetime
from zoneinfo import ZoneInfo

from measure import GEN, ROOT, gen, timed

TWIN = os.path.join(ROOT, "bench", "hugo-twin")
BOOKING_PAGE_TARGET = 12 * 1024
FILE_LIMIT = 200 * 1024
VARIANTS = (".gz", ".br")


def files_of(site):
    """Every file under `site` (following `site` itself, our `dist` symlink): (path, bytes)."""
    found = []
    for parent, _, names in os.walk(os.path.realpath(site)):
        for name in names:
            path = os.path.join(parent, name)
            found.append((os.path.relpath(path, os.path.realpath(site)), os.path.getsize(path)))
    return found


def weigh(site):
    """The weight of a built site: totals, booking pages, largest files."""
    files = files_of(site)
    originals = [(p, s) for p, s in files if not p.endswith(VARIANTS)]
    variants = [(p, s) for p, s in files if p.endswith(VARIANTS)]
    booking = sorted(s for p, s in originals if p.startswith("book/") and p.endswith("/index.html"))
    largest = sorted(files, key=lambda f: f[1], reverse=True)[:5]
    return {
        "files": len(originals),
        "bytes": sum(s for _, s in originals),
        "variant_files": len(variants),
        "variant_bytes": sum(s for _, s in variants),
        "booking_pages": len(booking),
        "booking_median": statistics.median(booking) if booking else 0,
        "booking_max": booking[-1] if booking else 0,
        "largest": largest,
        "over_limit": sum(1 for _, s in files if s > FILE_LIMIT),
    }


def build_ours(content, work):
    out, db = os.path.join(work, "ours"), os.path.join(work, "ours.db")
    seconds, rss, _ = gen("roll", content, out, db)
    return out, db, seconds, rss


def showtimes(db):
    """The open showtimes of our build's database, in start order (then studio)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(
            "SELECT id, film_slug, starts_at, ends_at FROM showtimes WHERE archived = 0 ORDER BY starts_at, studio, id"
        ).fetchall()


def prepare_twin(content, ours, db, work):
    """The Hugo twin's source folder: the twin's config and layouts, the same films, a content file
    per showtime, the room, and our build's assets and posters (originals) as static files."""
    site = os.path.join(work, "hugo-site")
    os.makedirs(site)
    shutil.copy(os.path.join(TWIN, "hugo.toml"), site)
    shutil.copytree(os.path.join(TWIN, "layouts"), os.path.join(site, "layouts"))
    shutil.copy(os.path.join(content, "auditorium.txt"), site)
    with open(os.path.join(content, "site.toml"), "rb") as f:
        settings = tomllib.load(f)
    zone = ZoneInfo(settings.get("time_zone", "Asia/Jakarta"))

    shutil.copytree(os.path.join(content, "films"), os.path.join(site, "content", "films"))
    book = os.path.join(site, "content", "book")
    os.makedirs(book)
    for weight, (id, film, starts, ends) in enumerate(showtimes(db), start=1):
        starts_at = datetime.fromtimestamp(starts, zone).isoformat()
        ends_at = datetime.fromtimestamp(ends, zone).isoformat()
        with open(os.path.join(book, f"{id}.md"), "w") as f:
            f.write(
                f'+++\ndate = {starts_at}\nends_at = "{ends_at}"\nfilm = "{film}"\n'
                f'screenings = ["{film}"]\nweight = {weight}\noutputs = ["HTML", "calendar"]\n+++\n'
            )
    with open(os.path.join(site, "content", "booking.md"), "w") as f:
        f.write('+++\ntitle = "Manage your booking"\nlayout = "booking"\nurl = "/booking/"\n+++\n')
    # The term pages of the showtimes-by-film index are not pages of the site.
    os.makedirs(os.path.join(site, "content", "screenings"))
    with open(os.path.join(site, "content", "screenings", "_index.md"), "w") as f:
        f.write('+++\n[_build]\nrender = "never"\nlist = "never"\n[cascade._build]\nrender = "never"\nlist = "never"\n+++\n')

    static = os.path.join(site, "static")
    names = {}
    for folder in ("assets", "posters"):
        os.makedirs(os.path.join(static, folder))
        for name in os.listdir(os.path.join(ours, folder)):
            if name.endswith(VARIANTS):
                continue
            shutil.copy(os.path.join(ours, folder, name), os.path.join(static, folder, name))
            if folder == "assets":
                # site.33bfbeaff7.css -> site.css
                stem, _, ext = name.rpartition(".")
                names[f"{stem.rpartition('.')[0]}.{ext}"] = f"/assets/{name}"
    os.makedirs(os.path.join(site, "data"))
    with open(os.path.join(site, "data", "assets.toml"), "w") as f:
        f.writelines(f'"{k}" = "{v}"\n' for k, v in sorted(names.items()))
    return site


def build_twin(site):
    public = os.path.join(site, "public")
    seconds, rss, _ = timed(["hugo", "--source", site, "--destination", public, "--quiet"])
    return public, seconds, rss


def measure(films, work):
    content = os.path.join(ROOT, "content") if films == 21 else os.path.join(work, f"content-{films}")
    if films != 21:
        timed([GEN, "synth-content", "--films", str(films), "--into", content, "--content", os.path.join(ROOT, "content")])
    ours, db, our_seconds, our_rss = build_ours(content, work)
    our_weight = weigh(ours)
    site = prepare_twin(content, ours, db, work)
    shutil.rmtree(os.path.realpath(ours))  # room on the disk for Hugo's output
    public, hugo_seconds, hugo_rss = build_twin(site)
    hugo_weight = weigh(public)
    shutil.rmtree(site)
    return {
        "films": films, "ours": our_weight, "hugo": hugo_weight,
        "our_seconds": our_seconds, "our_rss": our_rss, "hugo_seconds": hugo_seconds, "hugo_rss": hugo_rss,
    }


def mb(n):
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.1f} KB"


def kb(n):
    return f"{n / 1024:,.1f} KiB"


def report(rows):
    print("| films | our site (originals) | Hugo twin | ratio | our .gz/.br variants | booking page, ours: median / max | target | Hugo's booking page | largest file, ours | limit |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        o, h = r["ours"], r["hugo"]
        path, size = o["largest"][0]
        print(
            f"| {r['films']:,} | {mb(o['bytes'])} ({o['files']:,} files) | {mb(h['bytes'])} ({h['files']:,} files) "
            f"| {o['bytes'] / h['bytes']:.2f}x | {mb(o['variant_bytes'])} ({o['variant_files']:,} files) "
            f"| {kb(o['booking_median'])} / {kb(o['booking_max'])} | {kb(BOOKING_PAGE_TARGET)} "
            f"| {kb(h['booking_median'])} | {kb(size)} `{path}` | {kb(FILE_LIMIT)} |"
        )
    print("\nHugo writes no .gz/.br variants: the ratio compares originals to originals.")
    print("\n| films | our build | peak memory | Hugo twin's build | peak memory | time ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['films']:,} | {r['our_seconds']:.2f} s | {r['our_rss']:.0f} MiB | {r['hugo_seconds']:.2f} s "
            f"| {r['hugo_rss']:.0f} MiB | {r['our_seconds'] / r['hugo_seconds']:.2f}x |"
        )
    for r in rows:
        for who in ("ours", "hugo"):
            w = r[who]
            name = "our site" if who == "ours" else "the Hugo twin (info)"
            print(f"\n{r['films']:,} films, {name}: {w['over_limit']} files over {kb(FILE_LIMIT)}; the five largest:")
            for path, size in w["largest"]:
                mark = " (over the limit)" if size > FILE_LIMIT else ""
                print(f"  {size:>12,} bytes  {path}{mark}")


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [21, 10000]
    if not os.path.exists(GEN):
        sys.exit("no release binary: run `cargo build --release` (or `make bench`) first")
    if not shutil.which("hugo"):
        sys.exit("no hugo: install it (`apt-get install -y hugo`, Debian's 0.111.3) to weigh the site against its Hugo twin")
    hugo_version = subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.split()[1]
    work = tempfile.mkdtemp(prefix="tiketa-weight-", dir=os.environ.get("BENCH_DIR"))
    try:
        rows = []
        for n in sizes:
            films_work = os.path.join(work, str(n))
            os.makedirs(films_work)
            rows.append(measure(n, films_work))
            shutil.rmtree(films_work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"Machine: {os.cpu_count()} cores; Hugo {hugo_version}; `python3 bench/site-weight.py {' '.join(map(str, sizes))}`\n")
    report(rows)


if __name__ == "__main__":
    main()
