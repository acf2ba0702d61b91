"""Time a listening-history import: a generated 100,000-stream Spotify export -> ratings.

The export (``artistrec.history.samples``) has ``--artists`` distinct artists with Zipf-like
preference: ``--known`` of them are HetRec artists (a third written differently: lower case,
accents or punctuation dropped, one letter changed), the rest are names HetRec does not have,
so the matcher's fuzzy search runs for them. 5% podcast rows, 15% streams under 30 s, split
over ``--files`` JSON files as Spotify does. The catalogue's name index is built once (as the
service does per data set) and not part of the import time.

Usage::

    python benchmarks/history_import.py [--streams 100000] [--artists 4000] [--known 0.6]
"""

from __future__ import annotations

import argparse
import os
import time
import unicodedata

import numpy as np

from artistrec.data import Dataset, load_dataset
from artistrec.history import HistoryImporter, read_sources, samples


def variant(name: str, rng: np.random.Generator) -> str:
    """Another way of writing ``name``: lower case, no accents/punctuation, or one typo."""
    op = int(rng.integers(4))
    if op == 0:
        return name.lower()
    if op == 1:
        s = unicodedata.normalize("NFKD", name)
        return "".join(c for c in s if not unicodedata.combining(c))
    if op == 2:
        return "".join(c for c in name if c.isalnum() or c == " ")
    if len(name) > 6:
        i = int(rng.integers(1, len(name) - 1))
        return name[:i] + name[i + 1 :]
    return name


def make_export(
    ds: Dataset, streams: int, n_artists: int, known: float, n_files: int
) -> tuple[list[tuple[str, bytes]], list[str]]:
    """A Spotify extended-history export of ``streams`` streams over ``n_artists`` artists
    (a ``known`` share from the catalogue, a third of those written differently), split in
    ``n_files`` files: ``([(file name, bytes)], artist spellings)``. Seeded: always the same."""
    rng = np.random.default_rng(0)
    n_known = int(n_artists * known)
    listeners = ds.artist_listeners().astype(np.float64)
    p = (listeners + 1) / (listeners + 1).sum()
    picked = [
        str(n) for n in ds.artist_names[rng.choice(ds.n_artists, n_known, replace=False, p=p)]
    ]
    picked = [variant(n, rng) if rng.random() < 1 / 3 else n for n in picked]
    syll = ["ka", "ri", "mo", "ne", "la", "tor", "vin", "el", "son", "dar", "qu", "zel", "ph"]
    unknown = [
        " ".join("".join(rng.choice(syll, 3)).capitalize() for _ in range(2))
        for _ in range(n_artists - n_known)
    ]
    artists = list(dict.fromkeys(rng.permutation(np.asarray(picked + unknown, dtype=object))))
    log = samples.generate_streams(artists, streams, seed=1)
    files = [
        (f"Streaming_History_Audio_{i}.json", b)
        for i, b in enumerate(samples.spotify_extended(log, parts=n_files))
    ]
    return files, artists


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--streams", type=int, default=100_000)
    ap.add_argument("--artists", type=int, default=4_000)
    ap.add_argument("--known", type=float, default=0.6, help="share of HetRec artists")
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if not os.environ.get("LASTFM_DATA_DIR"):
        raise SystemExit("set LASTFM_DATA_DIR to the HetRec data")
    ds = load_dataset()
    t0 = time.perf_counter()
    importer = HistoryImporter.from_dataset(ds)
    print(f"name index built in {time.perf_counter() - t0:.2f} s ({ds.n_artists:,} artists)")

    files, artists = make_export(ds, args.streams, args.artists, args.known, args.files)
    mb = sum(len(b) for _, b in files) / 2**20
    print(
        f"export: {args.streams:,} streams, {len(artists):,} artists, {len(files)} files, {mb:.1f} MB"
    )

    walls, cpus, parses = [], [], []
    for _ in range(args.repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        parsed = read_sources(files)
        parses.append(time.perf_counter() - t0)
        result = importer.from_parsed(parsed)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    d = result.to_dict()
    kinds: dict[str, int] = {}
    for r in d["ratings"]:
        kinds[r["match"]] = kinds.get(r["match"], 0) + 1
    print(
        f"read {d['read']['plays']:,} plays of {d['read']['artists']:,} artists "
        f"({d['read']['skipped_rows']:,} rows skipped, {d['read']['short_streams']:,} short); "
        f"matched {d['matched']['artists']:,} {kinds}, {len(d['to_confirm'])} to confirm, "
        f"{len(d['unmatched']):,} unmatched"
    )
    print(
        f"import (files -> ratings) over {args.repeats} runs: median wall "
        f"{np.median(walls):.2f} s (parse {np.median(parses):.2f} s, match "
        f"{np.median(np.subtract(walls, parses)):.2f} s), median CPU {np.median(cpus):.2f} s, "
        f"max wall {np.max(walls):.2f} s"
    )


if __name__ == "__main__":
    main()
