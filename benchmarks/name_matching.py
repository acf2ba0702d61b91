"""Time the artist-name matcher: index build, and p50/p99 per query of search / resolve / suggest.

Two catalogues: HetRec's 17,632 names (from ``$LASTFM_DATA_DIR``) and the same names plus
synthetic ones up to ``--large`` names (default 160,000, the size of Last.fm-360K's artist list),
with Zipf-like popularity. Four kinds of query, generated with a fixed seed:

- ``hit``: a catalogue name as written (drawn by popularity);
- ``misspelt``: a popular name lower-cased with one or two random edits;
- ``garbage``: random letters, 5-15 of them;
- ``long``: 200 characters of random words.

Usage::

    python benchmarks/name_matching.py [--queries 300] [--large 160000] [--out CSV]

Prints one table (median and p99 in ms per catalogue, query kind and operation, wall-clock and
the thread's CPU time, which a loaded machine inflates less) and the build times; ``--out``
writes the same rows as CSV.
"""

from __future__ import annotations

import argparse
import os
import string
import time
from pathlib import Path

import numpy as np
import pandas as pd

from artistrec.data import load_dataset
from artistrec.data.names import NameIndex

SYLLABLES = [
    "ka", "ri", "mo", "ne", "la", "tor", "vin", "el", "son", "dar", "mi", "lu", "ber", "gar",
    "shi", "ta", "po", "ven", "ro", "qui", "zel", "an", "do", "rex", "fa", "lin", "ston", "ia",
]  # fmt: skip
PATTERNS = ["{a}", "{a} {b}", "The {a}s", "{a} & the {b}s", "DJ {a}", "{a} {b} {c}", "{a}-{b}"]


def synthetic_names(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct made-up band names (syllable words in a few common patterns)."""
    out: set[str] = set()
    while len(out) < n:
        words = ["".join(rng.choice(SYLLABLES, rng.integers(1, 4))).capitalize() for _ in range(3)]
        pat = PATTERNS[int(rng.integers(len(PATTERNS)))]
        out.add(pat.format(a=words[0], b=words[1], c=words[2]))
    return sorted(out)


def misspell(name: str, rng: np.random.Generator) -> str:
    s = list(name.lower())
    for _ in range(int(rng.integers(1, 3))):
        if len(s) < 3:
            break
        i = int(rng.integers(len(s)))
        op = int(rng.integers(3))
        if op == 0:
            del s[i]
        elif op == 1:
            s[i] = str(rng.choice(list(string.ascii_lowercase)))
        elif i + 1 < len(s):
            s[i], s[i + 1] = s[i + 1], s[i]
    return "".join(s)


def queries(names: list[str], pop: np.ndarray, n: int, seed: int) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    p = (pop + 1.0) / (pop + 1.0).sum()
    hits = [names[i] for i in rng.choice(len(names), n, p=p)]
    popular = [names[i] for i in np.argsort(-pop, kind="stable")[:2000]]
    miss = [misspell(popular[int(rng.integers(len(popular)))], rng) for _ in range(n)]
    letters = list(string.ascii_lowercase)
    garbage = ["".join(rng.choice(letters, int(rng.integers(5, 16)))) for _ in range(n)]
    long = []
    for _ in range(n):
        words = [str(rng.choice(SYLLABLES)) * int(rng.integers(1, 4)) for _ in range(80)]
        long.append(" ".join(words)[:200])
    return {"hit": hits, "misspelt": miss, "garbage": garbage, "long": long}


def time_ops(ix: NameIndex, qs: dict[str, list[str]]) -> list[dict[str, object]]:
    ops = {
        "search": lambda q: ix.search(q, 20),
        "resolve": ix.resolve,
        "suggest": lambda q: ix.suggest(q, 5),
    }
    for q in qs["hit"][:20]:  # warm up (lazy transliteration tables, caches)
        ix.search(q)
        ix.suggest(q)
    rows = []
    for kind, items in qs.items():
        for op, fn in ops.items():
            t = np.empty(len(items))
            cpu = np.empty(len(items))
            for i, q in enumerate(items):
                c0, t0 = time.thread_time(), time.perf_counter()
                fn(q)
                t[i] = time.perf_counter() - t0
                cpu[i] = time.thread_time() - c0
            rows.append(
                {
                    "queries": kind,
                    "op": op,
                    "n": len(items),
                    "p50_ms": round(float(np.median(t)) * 1e3, 3),
                    "p99_ms": round(float(np.quantile(t, 0.99)) * 1e3, 3),
                    "max_ms": round(float(t.max()) * 1e3, 3),
                    "cpu_p50_ms": round(float(np.median(cpu)) * 1e3, 3),
                    "cpu_p99_ms": round(float(np.quantile(cpu, 0.99)) * 1e3, 3),
                }
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=300, help="queries per kind")
    ap.add_argument("--large", type=int, default=160_000, help="size of the large catalogue")
    ap.add_argument("--builds", type=int, default=5, help="index builds timed per catalogue")
    ap.add_argument("--out", type=Path, default=None, help="write the rows as CSV")
    args = ap.parse_args()
    if not os.environ.get("LASTFM_DATA_DIR"):
        raise SystemExit("set LASTFM_DATA_DIR to the HetRec data")
    ds = load_dataset()
    names = [str(n) for n in ds.artist_names]
    pop = ds.artist_listeners().astype(np.float64)
    rng = np.random.default_rng(0)
    extra = [n for n in synthetic_names(args.large, rng) if n not in set(names)]
    extra = extra[: max(args.large - len(names), 0)]
    big_names = names + extra
    big_pop = np.r_[pop, np.floor(rng.zipf(2.0, len(extra)).clip(max=600) - 1)]

    rows, builds = [], []
    for label, ns, ps in (("hetrec", names, pop), ("large", big_names, big_pop)):
        times, cpus = [], []
        for _ in range(args.builds):
            c0, t0 = time.process_time(), time.perf_counter()
            ix = NameIndex.build(ns, ps)
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        builds.append((label, len(ns), float(np.median(times)), float(np.median(cpus))))
        for r in time_ops(ix, queries(ns, ps, args.queries, seed=1)):
            rows.append({"catalogue": label, "names": len(ns), **r})
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.to_string(index=False))
    for label, n, med, cpu in builds:
        print(f"build {label} ({n:,} names): median wall {med:.3f} s, median CPU {cpu:.3f} s")
    if args.out:
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
