"""Time and memory of loading a data set: first load (hash + parse + validate + cache write) and
cached load, each in a fresh process so peak RSS is that load's own.

    python benchmarks/data_loading.py DATA_DIR [--repeats 3] [--csv benchmarks/results/data_loading.csv]

Each repeat uses a new, empty cache directory (first load), then loads again from it (cached
load). The child processes report wall time per phase, the CPU time of the whole load
(``cpu_s``, user + system: the robust number on a shared machine) and their peak RSS
(``ru_maxrss``); this script prints medians and appends every run to the CSV.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
import artistrec.data as data
from artistrec.data.cache import load_parsed, save_parsed
from artistrec.data.dataset import Dataset
from artistrec.data.fingerprint import fingerprint_of
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
path, mode = Path(sys.argv[1]), sys.argv[2]
out = {"import_s": time.perf_counter() - t0}
c0 = cpu()
t = time.perf_counter()
hashes = data.file_hashes(path, data._hash_index())
out["hash_s"] = time.perf_counter() - t
fp = fingerprint_of(hashes)
cache_file = data.cache_dir() / "parsed" / f"{fp}.npz"
if mode == "first":
    t = time.perf_counter(); raw = data.read_raw(path, hashes); out["parse_validate_s"] = time.perf_counter() - t
    t = time.perf_counter(); ds = Dataset.from_raw(raw); out["build_s"] = time.perf_counter() - t
    del raw
    t = time.perf_counter(); save_parsed(ds, cache_file); out["cache_write_s"] = time.perf_counter() - t
else:
    t = time.perf_counter(); ds = load_parsed(cache_file, fp); out["cache_read_s"] = time.perf_counter() - t
    assert ds is not None, "no cache"
out["total_s"] = sum(v for k, v in out.items() if k.endswith("_s") and k != "import_s")
out["cpu_s"] = cpu() - c0  # CPU time of the load (user + system): robust on a shared machine
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out.update(users=ds.n_users, artists=ds.n_artists, pairs=int(ds.interactions.nnz),
           findings=len(ds.findings), format=ds.format)
print(json.dumps(out))
"""


def run(data_dir: Path, mode: str, cache: Path) -> dict[str, object]:
    env = {**os.environ, "ARTISTREC_CACHE_DIR": str(cache)}
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(data_dir), mode],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return {"mode": mode, **json.loads(res.stdout.strip().splitlines()[-1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--csv", type=Path, default=None)
    args = ap.parse_args()
    rows: list[dict[str, object]] = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="artistrec-bench-") as tmp:
            rows.append(run(args.data_dir, "first", Path(tmp)))
            rows.append(run(args.data_dir, "cached", Path(tmp)))
            print(json.dumps(rows[-2]), json.dumps(rows[-1]), sep="\n", flush=True)
    for mode in ("first", "cached"):
        sel = [r for r in rows if r["mode"] == mode]
        keys = [k for k in sel[0] if k.endswith("_s") or k == "peak_rss_mb"]
        med = {k: round(statistics.median(float(r[k]) for r in sel), 2) for k in keys}
        print(f"median {mode} ({len(sel)} runs): {med}")
    if args.csv:
        import pandas as pd

        args.csv.parent.mkdir(parents=True, exist_ok=True)
        frame = pd.DataFrame(rows).assign(data_dir=str(args.data_dir))
        frame.to_csv(args.csv, mode="a", header=not args.csv.exists(), index=False)


if __name__ == "__main__":
    main()
