"""Models at 1x, 10x and 100x the HetRec size: load, fit, peak memory, fold-in and throughput.

For every (data set, model) pair a fresh child process loads the data set (binary cache),
fits the model with its default parameters and measures:

- ``load_s``: the cached load (the first, parsing load is `benchmarks/data_loading.py`'s job;
  this script makes sure the cache exists before timing);
- ``fit_wall_s`` / ``fit_cpu_s``: the fit's wall time and CPU time (user + system, all threads);
- ``peak_rss_gb``: the child's peak resident set (``os.wait4`` rusage ``ru_maxrss``: data set +
  fit + scoring), and ``rss_after_load_gb`` (the data set's share);
- ``foldin_p50_ms`` / ``foldin_p99_ms``: single ``recommend_new_user`` calls (10 rated artists
  of random training users, k = 10, one BLAS thread, as served);
- ``known_users_per_s``: ``recommend`` for known users in batches of 100 (k = 10, seen excluded).

A child that exceeds ``--timeout`` seconds is killed and recorded as ``timeout``; its address
space is limited to ``--mem-limit-gb`` (a shared machine must survive a model that would not),
and a ``MemoryError`` is recorded as ``out of memory``. One CSV row per pair, appended to
``--csv`` as soon as it is known (a long run can be stopped and resumed with ``--skip-done``);
``--chart`` draws the log-log chart of fit time and peak RSS against the number of listens.

    nice python benchmarks/scale.py --data 1x=/work/cache/bench/syn1x --data 10x=/work/cache/bench/syn10x \\
        --models all --csv benchmarks/results-scale/scale.csv --chart benchmarks/results-scale/scale.png
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

FIELDS = (
    "size",
    "model",
    "status",
    "n_users",
    "n_artists",
    "n_listens",
    "load_s",
    "fit_wall_s",
    "fit_cpu_s",
    "rss_after_load_gb",
    "peak_rss_gb",
    "foldin_p50_ms",
    "foldin_p99_ms",
    "known_users_per_s",
    "note",
)


# ------------------------------------------------------------------------------ child process
def child(data_dir: str, model_name: str, out: str, requests: int, save: str | None) -> int:
    """Load, fit and measure one model; write a JSON record to ``out`` (and the artifact to
    ``save``, when given)."""
    import numpy as np

    import artistrec
    from artistrec.evaluation.runner import fold_in_latency
    from artistrec.models.linalg import single_blas_thread

    rec: dict[str, object] = {"status": "ok", "note": ""}

    def dump() -> None:
        Path(out).write_text(json.dumps(rec))

    t0 = time.perf_counter()
    ds = artistrec.load_dataset(data_dir)
    rec["load_s"] = time.perf_counter() - t0
    rec["n_users"], rec["n_artists"], rec["n_listens"] = (
        ds.n_users,
        ds.n_artists,
        ds.interactions.nnz,
    )
    rec["rss_after_load_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    dump()
    model = artistrec.create_model(model_name)
    try:
        c0, w0 = time.process_time(), time.perf_counter()
        model.fit(ds)
        rec["fit_wall_s"] = time.perf_counter() - w0
        rec["fit_cpu_s"] = time.process_time() - c0
        dump()
        with single_blas_thread():
            p50, p99, _ = fold_in_latency(
                model,
                ds.interactions,
                n_requests=requests,
                n_ratings=10,
                k=10,
                seed=0,
                budget_s=60.0,
            )
            rec["foldin_p50_ms"], rec["foldin_p99_ms"] = p50, p99
            dump()
            rng = np.random.default_rng(0)
            users = rng.choice(ds.n_users, size=min(1000, ds.n_users), replace=False)
            model.recommend(users[:10], k=10)  # warm-up
            t1, done = time.perf_counter(), 0
            for s in range(0, users.size, 100):  # batches, as the evaluation does
                model.recommend(users[s : s + 100], k=10)
                done += users[s : s + 100].size
                if time.perf_counter() - t1 > 60.0:
                    break
            rec["known_users_per_s"] = done / (time.perf_counter() - t1)
        if save:
            dump()
            t2 = time.perf_counter()
            model.save(save)
            rec["note"] = f"artifact {save} written in {time.perf_counter() - t2:.1f} s"
    except MemoryError as exc:
        import traceback

        where = traceback.extract_tb(exc.__traceback__)
        frames = " < ".join(f"{Path(f.filename).stem}.{f.name}" for f in reversed(where[-3:]))
        rec["status"] = "out of memory"
        rec["note"] = f"MemoryError under the address-space limit in {frames}"
    dump()
    return 0


# ------------------------------------------------------------------------------ parent
def run_one(
    size: str,
    data_dir: str,
    model: str,
    timeout: float,
    mem_limit_gb: float,
    requests: int,
    save_dir: str | None = None,
) -> dict[str, object]:
    """Run :func:`child` in a subprocess; its rusage comes from ``os.wait4``."""
    with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as f:
        out = f.name
    limit = int(mem_limit_gb * 1024**3)

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    cmd = [sys.executable, __file__, "--child", data_dir, model, out, "--requests", str(requests)]
    if save_dir:
        cmd += ["--save", str(Path(save_dir) / f"{size}-{model}.npz")]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    proc = subprocess.Popen(cmd, preexec_fn=limit_memory, env=env, start_new_session=True)
    deadline = time.monotonic() + timeout
    status, note = None, ""
    while True:
        pid, wstatus, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, wstatus, usage = os.wait4(proc.pid, 0)
            status, note = "timeout", f"killed after {timeout:.0f} s"
            break
        time.sleep(0.5)
    rec: dict[str, object] = {}
    try:
        rec = json.loads(Path(out).read_text() or "{}")
    except (OSError, json.JSONDecodeError):
        rec = {}
    Path(out).unlink(missing_ok=True)
    code = os.waitstatus_to_exitcode(wstatus)
    if status is None and code != 0:
        status, note = "failed", f"exit code {code}"
    if status is not None:
        rec["status"], rec["note"] = status, note
    rec.setdefault("status", "failed")
    rec.update(size=size, model=model, peak_rss_gb=usage.ru_maxrss / 1024**2)
    return rec


def _fmt(v: object) -> object:
    return f"{v:.4g}" if isinstance(v, float) else v


def chart(rows: list[dict[str, str]], path: Path) -> None:
    """Log-log: fit CPU time (robust on a shared machine) and peak RSS against listens, one
    line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    models = sorted({r["model"] for r in rows})
    for m in models:
        pts = sorted(
            (float(r["n_listens"]), r)
            for r in rows
            if r["model"] == m and r["status"] == "ok" and r.get("n_listens") and r.get("fit_cpu_s")
        )
        if not pts:
            continue
        x = [p[0] for p in pts]
        axes[0].plot(x, [float(p[1]["fit_cpu_s"]) for p in pts], marker="o", label=m)
        axes[1].plot(x, [float(p[1]["peak_rss_gb"]) for p in pts], marker="o", label=m)
    for ax, title in zip(
        axes, ("fit CPU time, user + system (s)", "peak RSS of the process (GB)"), strict=True
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("user-artist listens")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("Cost against data size (synthetic 1x / 10x / Last.fm-360K size, 2 shared cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(rows: list[dict[str, str]]) -> str:
    """The CSV rows as the markdown table of docs/BENCHMARKS.md."""

    def num(v: str, fmt: str) -> str:
        return format(float(v), fmt) if v not in ("", None) else ""

    out = [
        "| size | model | status | fit wall s | fit CPU s | peak RSS GB | fold-in p50 / p99 ms "
        "| known users/s |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        fold = ""
        if r.get("foldin_p50_ms"):
            fold = f"{num(r['foldin_p50_ms'], '.2f')} / {num(r['foldin_p99_ms'], '.2f')}"
        out.append(
            f"| {r['size']} | {r['model']} | {r['status']} | {num(r['fit_wall_s'], '.1f')} "
            f"| {num(r['fit_cpu_s'], '.1f')} | {num(r['peak_rss_gb'], '.2f')} | {fold} "
            f"| {num(r['known_users_per_s'], '.0f')} |"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        ap = argparse.ArgumentParser()
        ap.add_argument("data_dir")
        ap.add_argument("model")
        ap.add_argument("out")
        ap.add_argument("--requests", type=int, default=500)
        ap.add_argument("--save", default=None)
        a = ap.parse_args(argv[1:])
        return child(a.data_dir, a.model, a.out, a.requests, a.save)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", action="append", default=[], help="SIZE=DIR (repeatable)")
    ap.add_argument("--models", default="all", help="comma-separated names, or 'all' (registered)")
    ap.add_argument("--csv", default="benchmarks/results-scale/scale.csv")
    ap.add_argument("--chart", default=None, help="PNG path for the log-log chart (from --csv)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per fit child")
    ap.add_argument(
        "--mem-limit-gb", type=float, default=14.0, help="address-space limit per child"
    )
    ap.add_argument("--requests", type=int, default=500, help="fold-in requests timed per model")
    ap.add_argument("--skip-done", action="store_true", help="skip pairs already in --csv")
    ap.add_argument("--save-dir", default=None, help="write each model's artifact here")
    ap.add_argument("--table", nargs="*", default=None, help="print CSVs as a markdown table")
    args = ap.parse_args(argv)
    if args.table is not None:
        rows: list[dict[str, str]] = []
        for path in args.table or [args.csv]:
            with open(path) as f:
                rows += list(csv.DictReader(f))
        print(table(rows))
        if args.chart:
            chart(rows, Path(args.chart))
        return 0

    from artistrec.models import registered_models

    names = registered_models() if args.models == "all" else args.models.split(",")
    out = Path(args.csv)
    out.parent.mkdir(parents=True, exist_ok=True)
    done: set[tuple[str, str]] = set()
    if args.skip_done and out.exists():
        with out.open() as f:
            done = {(r["size"], r["model"]) for r in csv.DictReader(f)}
    for spec in args.data:
        size, data_dir = spec.split("=", 1)
        import artistrec

        t0 = time.perf_counter()
        artistrec.load_dataset(data_dir)  # makes sure the binary cache exists (not timed)
        print(f"[{size}] data set ready in {time.perf_counter() - t0:.1f} s", flush=True)
        for name in names:
            if (size, name) in done:
                continue
            rec = run_one(
                size,
                data_dir,
                name,
                args.timeout,
                args.mem_limit_gb,
                args.requests,
                args.save_dir,
            )
            new = not out.exists()
            with out.open("a", newline="") as f:
                w = csv.DictWriter(f, FIELDS, extrasaction="ignore")
                if new:
                    w.writeheader()
                w.writerow({k: _fmt(rec.get(k, "")) for k in FIELDS})
            print({k: _fmt(rec.get(k, "")) for k in FIELDS}, flush=True)
    if args.chart:
        with out.open() as f:
            chart(list(csv.DictReader(f)), Path(args.chart))
    return 0


if __name__ == "__main__":
    sys.exit(main())
