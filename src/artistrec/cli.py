"""The ``artistrec`` command line (Typer). Every command calls :mod:`artistrec.service` or the data layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from artistrec.data import DataError, load_dataset
from artistrec.data.source import download_dataset

if TYPE_CHECKING:  # imported lazily at run time (pyspark is optional, --help stays fast)
    from artistrec.data import Dataset
    from artistrec.models.base import Recommender
    from artistrec.models.spark_als import SparkALS

app = typer.Typer(
    name="artistrec",
    help="Music-artist recommender for the HetRec 2011 Last.fm data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Inspect, validate and download the data set.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console()
err_console = Console(stderr=True)

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Directory with the data: HetRec 2011, Last.fm-360K or interactions.csv/.parquet "
        "(default: $LASTFM_DATA_DIR, the cache, else download HetRec).",
    ),
]


def fail(message: str, code: int = 1) -> None:
    """Print a clear error and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


# ----------------------------------------------------------------------------- data
@data_app.command("info")
def data_info(
    data_dir: DataDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print the data set's statistics (as in the HetRec readme), for any format."""
    from rich.markup import escape

    from artistrec.data.formats import TITLES

    try:
        with console.status("loading data set"):
            ds = load_dataset(data_dir)
    except DataError as exc:
        fail(escape(str(exc)))
    stats = ds.summary()
    if as_json:
        out = {"fingerprint": ds.fingerprint, "format": ds.format, **stats, "parts": ds.parts}
        print(json.dumps(out, indent=2))
        return
    title = TITLES.get(ds.format, ds.format)
    table = Table(title=f"{title} (fingerprint {ds.fingerprint})")
    table.add_column("statistic")
    table.add_column("value", justify="right")
    labels = {
        "users": "users",
        "artists": "artists",
        "user_artist_pairs": "user-artist pairs",
        "tags": "tags",
        "tag_assignments": "tag assignments",
        "friend_relations": "friend relations",
        "friend_pairs_directed": "friend pairs (directed)",
    }
    missing = "not in this data set"
    for key, label in labels.items():
        absent = (key.startswith("tag") and not ds.has_tags) or (
            key.startswith("friend") and not ds.has_friends
        )
        table.add_row(label, missing if absent else f"{stats[key]:,}")
    if ds.has_profiles:
        table.add_row("user profiles", "gender, age, country, signup")
    console.print(table)


@data_app.command("validate")
def data_validate(
    path: Annotated[
        Path, typer.Argument(help="Directory with a data set (HetRec, Last.fm-360K or generic).")
    ],
) -> None:
    """Validate the files in PATH: fatal problems exit 1; findings are listed."""
    from rich.markup import escape

    from artistrec.data.formats import TITLES, detect_format

    try:
        fmt = detect_format(path, "the PATH argument")
        with console.status(f"validating {escape(str(path))}"):
            ds = load_dataset(path, use_cache=False, download=False)
    except DataError as exc:
        fail(escape(f"invalid data: {exc}"))
    console.print(
        f"[green]ok[/]: {escape(str(path))} loads as {TITLES.get(fmt, fmt)} "
        f"({ds.n_users:,} users, {ds.n_artists:,} artists)",
        soft_wrap=True,
    )
    console.print(f"{len(ds.findings)} finding(s):")
    for f in ds.findings:
        console.print(f"  - {escape(f)}", soft_wrap=True)


@data_app.command("download")
def data_download(
    url: Annotated[str | None, typer.Option(help="Zip URL (default: GroupLens).")] = None,
    dest: Annotated[Path | None, typer.Option(help="Cache root (default: user cache).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the server.")] = 30.0,
) -> None:
    """Download the data set into the cache (no-op when it is already there)."""
    from rich.markup import escape

    try:
        path = download_dataset(url=url, dest_root=dest, timeout=timeout)
    except DataError as exc:
        fail(escape(str(exc)))
    console.print(f"data set ready at {escape(str(path))}", soft_wrap=True)


@data_app.command("synthetic")
def data_synthetic(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write the data set to.")],
    preset: Annotated[
        str,
        typer.Option(
            help="Size: hetrec (= 1x: 1,892 users x 17,632 artists), 10x, 100x, or lastfm360k "
            "(359,347 users, ~160K artists, ~17.5M pairs).",
        ),
    ] = "hetrec",
    data_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="Files to write: hetrec (the six HetRec files), lastfm360k "
            "(usersha1-artmbid-artname-plays.tsv + usersha1-profile.tsv) or generic "
            "(interactions.csv + artists.csv).",
        ),
    ] = "hetrec",
    users: Annotated[
        int | None, typer.Option(min=1, help="Number of users (overrides the preset).")
    ] = None,
    artists: Annotated[
        int | None, typer.Option(min=1, help="Number of artists (overrides the preset).")
    ] = None,
    tags: Annotated[
        int | None, typer.Option(min=1, help="Number of tags (default: ~artists/1.5).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 0,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Write a synthetic data set (tests, scale benchmarks) in any format the loader reads."""
    import dataclasses
    import time

    from rich.markup import escape

    from artistrec.data.synthetic import FORMATS, PRESETS, generate

    if preset not in PRESETS:
        raise typer.BadParameter(
            f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}", param_hint="--preset"
        )
    if data_format not in FORMATS:
        raise typer.BadParameter(
            f"unknown format {data_format!r}; choose one of {', '.join(FORMATS)}",
            param_hint="--format",
        )
    spec = PRESETS[preset]
    changes: dict[str, int] = {"seed": seed}
    if users is not None:
        changes["n_users"] = users
    if artists is not None:
        changes["n_artists"] = artists
    if tags is not None:
        changes["n_tags"] = tags
    elif artists is not None:
        changes["n_tags"] = max(1, round(artists / 1.5))
    spec = dataclasses.replace(spec, **changes)
    start = time.perf_counter()
    try:
        path = generate(out_dir, spec, format=data_format, progress=progress)
    except (OSError, ValueError) as exc:
        fail(escape(f"could not write synthetic data to {out_dir}: {exc}"))
    seconds = time.perf_counter() - start
    what = f"{spec.n_users:,} users, {spec.n_artists:,} artists"
    if data_format == "hetrec":
        what += f", {spec.n_tags:,} tags"
    console.print(
        f"wrote {what} ({data_format} format) to {escape(str(path))} in {seconds:.1f} s",
        soft_wrap=True,
    )


# ----------------------------------------------------------------------------- models & serving
def _parse_param(text: str) -> tuple[str, object]:
    """``key=value`` with value read as JSON when it parses (numbers, true/false), else a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise typer.BadParameter(f"expected key=value, got {text!r}", param_hint="--param")
    try:
        value: object = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def _load_service(
    data_dir: Path | None, model: str = "default", model_path: Path | None = None
):  # -> RecommenderService (imported lazily to keep `artistrec --help` fast)
    from artistrec.service import InvalidRequestError, RecommenderService
    from artistrec.store.artifacts import ArtifactError

    try:
        with console.status("loading data set and model"):
            svc = RecommenderService.load(
                data_dir, model_path=model_path, model=model, progress=False
            )
    except (DataError, ArtifactError, InvalidRequestError) as exc:
        fail(str(exc))
    return svc


def _print_recommendations(recs: list, title: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps([r.to_dict() for r in recs], indent=2, ensure_ascii=False))
        return
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("artist")
    table.add_column("id", justify="right")
    table.add_column("score", justify="right")
    table.add_column("tags")
    table.add_column("why")
    for rank, r in enumerate(recs, 1):
        table.add_row(
            str(rank), r.name, str(r.artist_id), f"{r.score:.3f}", ", ".join(r.tags), r.reason
        )
    console.print(table)


#: Where ``artistrec train`` runs a fit.
ENGINES = ("local", "spark")


def _train_on_spark(estimator: Recommender, ds: Dataset, master: str | None) -> SparkALS:
    """Fit the ``als`` ``estimator``'s parameters with Spark's ALS on ``master``, with a progress
    bar fed by Spark's status tracker; Spark's own console output goes to its log file."""
    import contextlib
    import threading

    from rich.markup import escape
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from artistrec.models.spark_als import (
        DEFAULT_MASTER,
        SparkALS,
        SparkUnavailableError,
        default_log_path,
        expected_jobs,
        fit_status,
        spark_session,
    )

    master = master or DEFAULT_MASTER
    model = SparkALS(**estimator.get_params())
    try:
        model.check_params()
    except ValueError as exc:
        fail(escape(f"training als on Spark failed: {exc}"))
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    )
    total = expected_jobs(int(model.iterations))
    with contextlib.ExitStack() as stack:  # stops the session on every way out, fail() included
        try:
            with console.status(f"starting Spark on {escape(master)}"):
                spark = stack.enter_context(spark_session(master))
        except SparkUnavailableError as exc:
            fail(escape(str(exc)))
        done = threading.Event()
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task(f"training als on Spark ({escape(master)})", total=total, status="")

            def watch() -> None:
                while not done.wait(0.5):
                    try:
                        status = fit_status(spark)
                    except Exception:  # the session is shutting down: stop reporting
                        return
                    bar.update(
                        task, completed=min(status.jobs_done, total - 1), status=status.describe()
                    )

            watcher = threading.Thread(target=watch, name="spark-progress", daemon=True)
            watcher.start()
            try:
                model.fit(ds)
            except (ValueError, TypeError) as exc:
                error = f"training als on Spark failed: {exc}"
            except Exception as exc:  # Py4J / Spark errors: the details are in Spark's log
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                error = f"Spark failed while training als: {first} (log: {default_log_path()})"
            else:
                error = None
            finally:
                done.set()
                watcher.join()
        if error is not None:
            fail(escape(error))
    return model


@app.command("train")
def train(
    model: Annotated[str, typer.Argument(help="Model name (see `artistrec.available_models()`).")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Hyper-parameter override key=value (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Artifact path (default: the cache path the service and API load)."),
    ] = None,
    data_dir: DataDirOpt = None,
    engine: Annotated[
        str,
        typer.Option(
            help="Where the model trains: 'local' (this process) or 'spark' (als only: "
            "pyspark.ml's ALS on --spark-master; needs Java and the spark extra)."
        ),
    ] = "local",
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="Spark master for --engine spark: local[N] (N cores here), local[*] or "
            "spark://host:7077 (default local[*]).",
        ),
    ] = None,
) -> None:
    """Train MODEL on the whole data set and save it as an artifact (npz + JSON, no pickle)."""
    import time

    from artistrec import available_models, create_model
    from artistrec.models.registry import DEFAULT_MODEL
    from artistrec.service import default_model_path, fit_with_progress

    params = dict(_parse_param(p) for p in (param or []))
    if model not in available_models():
        fail(f"unknown model {model!r}; available: {', '.join(available_models())}")
    if engine not in ENGINES:
        fail(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}", 2)
    if engine == "spark" and model != "als":
        fail(f"--engine spark trains the als model only, not {model!r}", 2)
    if engine != "spark" and spark_master is not None:
        fail("--spark-master only applies with --engine spark", 2)
    try:
        estimator = create_model(model, **params)
    except ValueError as exc:
        fail(str(exc))
    try:
        with console.status("loading data set"):
            ds = load_dataset(data_dir)
    except DataError as exc:
        fail(str(exc))
    start = time.perf_counter()
    if engine == "spark":
        estimator = _train_on_spark(estimator, ds, spark_master)
    else:
        try:
            fit_with_progress(estimator, ds)
        except (ValueError, TypeError) as exc:
            fail(f"training {model} failed: {exc}")
    seconds = time.perf_counter() - start
    name = DEFAULT_MODEL if model == "default" else model
    path = out if out is not None else default_model_path(name, ds.fingerprint)
    try:
        saved = estimator.save(path)
    except OSError as exc:
        fail(f"could not write {path}: {exc}")
    console.print(f"[green]trained[/] {estimator!r} in {seconds:.1f} s -> {saved}")


@app.command("recommend")
def recommend(
    user: Annotated[int | None, typer.Option(help="Recommend for this known user id.")] = None,
    rate: Annotated[
        list[str] | None,
        typer.Option(
            "--rate",
            "-r",
            help='A rating "Artist Name=LEVEL" (level 0..5; an artist id works too); repeatable.',
        ),
    ] = None,
    history: Annotated[
        list[Path] | None,
        typer.Option(
            "--history",
            help="A listening-history export: Spotify JSON, Last.fm scrobbles CSV, an "
            "artist,plays CSV/TSV, or a zip of them (repeatable; read in memory, not stored).",
        ),
    ] = None,
    k: Annotated[int, typer.Option(help="Number of recommendations (1..500).")] = 10,
    model: Annotated[str, typer.Option(help="Model name.")] = "default",
    novelty: Annotated[
        float, typer.Option(help="0..1: trade score for less popular artists.")
    ] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Recommend artists for a known user (--user), for your own ratings (--rate, repeatable)
    or for your listening history (--history, repeatable)."""
    from artistrec.service import InvalidRequestError, UnknownArtistError, UnknownUserError

    if history:
        if user is not None or rate:
            fail("--history cannot be combined with --user or --rate", 2)
        from artistrec.cli_history import recommend_from_history

        return recommend_from_history(history, k, model, novelty, as_json, data_dir)
    if (user is None) == (not rate):
        fail('give either --user ID, at least one --rate "Artist Name=LEVEL" or --history FILE', 2)
    parsed: list[tuple[str, int]] = []
    for text in rate or []:
        name, sep, level = text.rpartition("=")
        if not sep or not name.strip():
            fail(f'--rate expects "Artist Name=LEVEL", got {text!r}', 2)
        try:
            lv = int(level)
        except ValueError:
            lv = -1
        if not 0 <= lv <= 5:
            fail(f"level in {text!r} must be an integer 0..5", 2)
        parsed.append((name.strip(), lv))
    svc = _load_service(data_dir, model)
    try:
        if user is not None:
            recs = svc.recommend_for_user(user, k=k, model=model)
            title = f"Recommendations for user {user} ({svc.model(model).name})"
        else:
            ratings: dict[int, int] = {}
            for name, level in parsed:
                aid = svc.resolve_artist(name)
                if aid in ratings:
                    fail(f"{name!r} is rated more than once", 2)
                ratings[aid] = level
            recs = svc.recommend_for_ratings(ratings, k=k, model=model, novelty=novelty)
            title = f"Recommendations from {len(ratings)} rating(s) ({svc.model(model).name})"
    except UnknownArtistError as exc:
        hint = f"; did you mean: {', '.join(exc.suggestions)}" if exc.suggestions else ""
        fail(f"no artist named {exc.query!r}{hint}")
    except (UnknownUserError, InvalidRequestError) as exc:
        fail(str(exc), 2)
    _print_recommendations(recs, title, as_json)


@app.command("similar")
def similar(
    artist: Annotated[str, typer.Argument(help="Artist name (case/accents ignored) or id.")],
    k: Annotated[int, typer.Option(help="Number of artists (1..500).")] = 10,
    measure: Annotated[str, typer.Option(help="cosine or dot.")] = "cosine",
    model: Annotated[str, typer.Option(help="Model name.")] = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """List the artists most similar to ARTIST."""
    from artistrec.service import InvalidRequestError, UnknownArtistError

    svc = _load_service(data_dir, model)
    try:
        aid = svc.resolve_artist(artist)
        recs = svc.similar(aid, k=k, measure=measure, model=model)
    except UnknownArtistError as exc:
        hint = f"; did you mean: {', '.join(exc.suggestions)}" if exc.suggestions else ""
        fail(f"no artist named {exc.query!r}{hint}")
    except InvalidRequestError as exc:
        fail(str(exc), 2)
    name = svc.artist_info(aid)["name"]
    _print_recommendations(recs, f"Artists similar to {name} ({measure})", as_json)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    db: Annotated[
        str | None,
        typer.Option(
            help="Profile database: a SQLite file path (default: in the cache dir), "
            "sqlite:///path, or postgresql://user@host/dbname to share profiles between "
            "instances (needs the 'postgres' extra; password via PGPASSWORD or ~/.pgpass)."
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Model artifact to serve (default: cached default model)."),
    ] = None,
    data_dir: DataDirOpt = None,
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="Server processes (one per core; each loads the model)."),
    ] = 1,
    header_timeout: Annotated[
        float, typer.Option(min=0.001, help="Seconds a client has to send request line + headers.")
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option(min=0.001, help="Seconds a client has to send the request body.")
    ] = 30.0,
    keep_alive: Annotated[
        float, typer.Option(min=0.001, help="Seconds an idle keep-alive connection stays open.")
    ] = 5.0,
    max_connections: Annotated[
        int, typer.Option(min=1, help="Open connections per process; more get 503.")
    ] = 1000,
    max_inflight: Annotated[
        int, typer.Option(min=1, help="Requests in progress per process; more get 503.")
    ] = 128,
    reload_poll: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Seconds between checks of the model artifact; a changed file is reloaded "
            "by every process (0: only POST /admin/reload, in the process that gets it).",
        ),
    ] = 1.0,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log every request (off when a reverse proxy logs them: ~5% more throughput).",
        ),
    ] = True,
) -> None:
    """Run the HTTP API (FastAPI + uvicorn). Set ARTISTREC_ADMIN_TOKEN to enable /admin/reload.

    Behind a reverse proxy see docs/DEPLOYMENT.md.
    """
    from artistrec.api.server import ServerLimits, prepare_artifact, run
    from artistrec.service import InvalidRequestError
    from artistrec.store.artifacts import ArtifactError
    from artistrec.store.profiles import StoreError, open_profile_store

    limits = ServerLimits(
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        keep_alive=keep_alive,
        max_connections=max_connections,
        max_inflight=max_inflight,
        reload_poll=reload_poll,
    )
    try:  # before loading the model: a wrong --db fails in a second, not after training
        store = open_profile_store(db)
    except StoreError as exc:
        fail(str(exc))
    if workers == 1:
        svc = _load_service(data_dir, "default", model)
        name = svc.model().name
    else:
        # the supervisor holds no data and no model: a child process trains or checks the
        # artifact and exits, then every worker loads it
        svc = None
        try:
            with console.status("checking the model artifact"):
                name, _ = prepare_artifact(data_dir, model)
        except (DataError, ArtifactError, InvalidRequestError) as exc:
            store.close()
            fail(str(exc))
    console.print(
        f"serving {name} on http://{host}:{port} with {workers} process(es) "
        f"(profiles: {store.location}); docs at /docs"
    )
    run(
        svc,
        store,
        host,
        port,
        workers=workers,
        data_dir=data_dir,
        model_path=model,
        limits=limits,
        access_log=access_log,
    )


# ----------------------------------------------------------------------------- evaluate
@app.command("evaluate")
def evaluate_cmd(
    protocol: Annotated[
        str, typer.Option(help="warm | new-users | recbole (see docs/BENCHMARKS.md).")
    ] = "warm",
    models: Annotated[
        str | None,
        typer.Option(help="Comma-separated model names (default: every available model)."),
    ] = None,
    params: Annotated[
        str | None,
        typer.Option(
            help='JSON {model: {param: value}} overrides, e.g. \'{"als": {"factors": 64}}\'.'
        ),
    ] = None,
    k: Annotated[int, typer.Option(help="List length K of the metrics.")] = 10,
    seeds: Annotated[str, typer.Option(help="Comma-separated split seeds.")] = "0,1,2",
    folds: Annotated[
        int, typer.Option(help="new-users: folds of the CV over users (0 = one 20% hold-out).")
    ] = 10,
    n_revealed: Annotated[
        str, typer.Option("--n-revealed", help="new-users: artists revealed, comma-separated.")
    ] = "3,5,10",
    latency_requests: Annotated[
        int, typer.Option(help="Single new-user requests timed per fitted model (0 = skip).")
    ] = 200,
    latency_runs: Annotated[
        str, typer.Option(help="Time fold-in on the 'first' fit of each model or on 'all' fits.")
    ] = "first",
    max_users: Annotated[
        int | None,
        typer.Option(help="new-users: evaluate at most this many random users per fold."),
    ] = None,
    fixed_test: Annotated[
        bool,
        typer.Option(help="new-users: score every N against the artists left after the largest N."),
    ] = False,
    out: Annotated[Path, typer.Option(help="Directory for CSV, JSON and PNG results.")] = Path(
        "results"
    ),
    data_dir: DataDirOpt = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Evaluate models offline (leak-free splits) and write CSV + JSON + PNG charts to OUT."""
    from rich.markup import escape

    from artistrec.evaluation.report import rich_table, summarize, write_outputs
    from artistrec.evaluation.runner import PROTOCOLS, default_model_names, evaluate_detailed

    if protocol not in PROTOCOLS:
        fail(f"--protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
        ns = [int(s) for s in n_revealed.split(",") if s.strip()]
    except ValueError:
        fail("--seeds and --n-revealed must be comma-separated integers")
    names = [m.strip() for m in models.split(",") if m.strip()] if models else default_model_names()
    try:
        overrides = json.loads(params) if params else {}
    except json.JSONDecodeError as exc:
        fail(escape(f"--params is not valid JSON: {exc}"))
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        fail("--params must be a JSON object {model: {param: value}}")
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        fail(f"--params names model(s) not being evaluated: {', '.join(unknown)}")
    spec = {name: overrides.get(name, {}) for name in names}
    try:
        ds = load_dataset(data_dir)
    except DataError as exc:
        fail(escape(str(exc)))
    try:
        result = evaluate_detailed(
            ds,
            spec,
            protocol=protocol,
            k=k,
            seeds=seed_list,
            n_revealed=ns,
            n_folds=folds or None,
            latency_requests=latency_requests,
            latency_runs=latency_runs,
            max_users=max_users,
            fixed_test=fixed_test,
            progress=progress,
        )
    except ValueError as exc:
        fail(escape(str(exc)))
    summary = summarize(result.summary)
    wide = console if console.is_terminal else Console(width=200)
    wide.print(rich_table(summary, title=f"{protocol}: ranking quality (mean ± std over runs)"))
    wide.print(rich_table(summary, title=f"{protocol}: cost", kind="cost"))
    meta = {
        "protocol": protocol,
        "k": k,
        "seeds": seed_list,
        "folds": folds,
        "n_revealed": ns,
        "max_users": max_users,
        "fixed_test": fixed_test,
        "latency_requests": latency_requests,
        "latency_runs": latency_runs,
        "models": spec,
        "data_fingerprint": ds.fingerprint,
    }
    for path in write_outputs(result.summary, out, result.per_user, meta=meta):
        console.print(f"wrote {escape(str(path))}")


# ----------------------------------------------------------------------------- web app
def streamlit_args(host: str, port: int) -> list[str]:
    """Arguments of ``streamlit`` that run the web app (headless, no usage statistics)."""
    from artistrec.app import ENTRY_SCRIPT

    return [
        "run",
        str(ENTRY_SCRIPT),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


@app.command("app")
def web_app(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8501,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Model artifact to serve (default: cached default model)."),
    ] = None,
    data_dir: DataDirOpt = None,
    db: Annotated[
        str | None,
        typer.Option(
            help="Saved profiles: a SQLite file, sqlite:///path or postgresql://user@host/dbname "
            "(default: $ARTISTREC_DB, else the API's SQLite file)."
        ),
    ] = None,
) -> None:
    """Run the web app (Streamlit) on http://HOST:PORT; trains the default model first if needed.

    Streamlit runs in this process, so the data set and model are loaded (in a background thread,
    while the server starts) into the app's process-wide cache before the first visitor arrives.
    """
    import os
    import threading

    from artistrec.models.registry import DEFAULT_MODEL
    from artistrec.service import ENV_PROFILE_DB, RecommenderService, default_model_path
    from artistrec.store.artifacts import ArtifactError

    if data_dir is not None:
        os.environ["LASTFM_DATA_DIR"] = str(data_dir.resolve())
    if model is not None:
        if not model.is_file():
            fail(f"model artifact not found: {model}")
        os.environ["ARTISTREC_MODEL_PATH"] = str(model.resolve())
    if db is not None:
        if "://" in db:
            os.environ[ENV_PROFILE_DB] = db.strip()
        elif Path(db).is_dir():
            fail(f"--db must be a file path, not a directory: {db}")
        else:
            os.environ[ENV_PROFILE_DB] = str(Path(db).resolve())
    try:
        with console.status("loading data set"):
            ds = load_dataset(data_dir)
        if model is None and not default_model_path(DEFAULT_MODEL, ds.fingerprint).is_file():
            console.print(f"no trained {DEFAULT_MODEL!r} model yet: training it once (cached)")
            RecommenderService(ds, progress=True).model("default")
    except (DataError, ArtifactError, ValueError) as exc:
        fail(str(exc))
    del ds

    from streamlit.web import cli as streamlit_cli

    from artistrec.app.common import warm_up

    threading.Thread(target=warm_up, name="artistrec-warm-up", daemon=True).start()
    console.print(f"web app on http://{host}:{port} (Ctrl+C stops it)")
    streamlit_cli.main(args=streamlit_args(host, port), prog_name="streamlit")


if __name__ == "__main__":  # pragma: no cover
    app()
