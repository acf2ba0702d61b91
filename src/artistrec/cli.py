"""The ``artistrec`` command line (Typer). Every command calls :mod:`artistrec.service` or the data layer.

Options are declared with the shared types of :mod:`artistrec.cli_options`, whose checks run
while the command line is parsed: a bad value is refused in one sentence before anything loads.
User errors never print a traceback; :func:`main` (the console script) turns an unexpected
exception into one line too, and ``ARTISTREC_DEBUG=1`` shows its traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from artistrec.cli_options import (
    ArtifactOpt,
    ArtistrecCommand,
    ArtistrecGroup,
    DataDirOpt,
    DbOpt,
    EngineOpt,
    HistoryOpt,
    HostOpt,
    JsonOpt,
    KOpt,
    ModelOpt,
    NoveltyOpt,
    PortOpt,
    SparkMasterOpt,
    TimeoutOpt,
    UrlOpt,
    check_bindable,
    check_data_dir,
    check_engine_options,
    check_measure,
    check_model_name,
    check_out_dir,
    check_out_file,
    make_dirs,
    make_parent_dirs,
    split_model_option,
)
from artistrec.data import DataError, load_dataset
from artistrec.data.source import download_dataset

#: Set to 1 to see the traceback of an unexpected error instead of its one-line summary.
ENV_DEBUG = "ARTISTREC_DEBUG"

if TYPE_CHECKING:  # imported lazily at run time (pyspark is optional, --help stays fast)
    from artistrec.data import Dataset
    from artistrec.models.base import Recommender
    from artistrec.models.spark_als import SparkALS

app = typer.Typer(
    name="artistrec",
    cls=ArtistrecGroup,
    help="Music-artist recommender for the HetRec 2011 Last.fm data (and Last.fm-360K or your "
    "own listening logs). The data set is downloaded on first use; point --data-dir or "
    "$LASTFM_DATA_DIR at a local copy to work offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    cls=ArtistrecGroup,
    help="Inspect, validate and download the data set.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")
console = Console()
err_console = Console(stderr=True)

#: What a level means, for --help texts (the scale of :mod:`artistrec.data.scale`).
LEVELS_HELP = (
    "0 = not interested (left out of the results, says nothing about your taste), 1 = listened "
    "once, 2 = 2-1,000 plays, 3 = 1,001-10,000, 4 = 10,001-50,000, 5 = more"
)


def fail(message: str, code: int = 1) -> None:
    """Print a clear error (plain text, never read as markup) and exit with ``code``."""
    from rich.text import Text

    err_console.print(Text.assemble(("error:", "bold red"), " ", str(message)), soft_wrap=True)
    raise typer.Exit(code)


def note(message: str) -> None:
    """One line of information on stderr (stdout stays the command's output, e.g. JSON)."""
    err_console.print(message, soft_wrap=True, highlight=False, markup=False)


def main() -> None:
    """The ``artistrec`` console script: the Typer app, with no traceback for a user.

    Anticipated errors are handled by each command; anything else is reported in one line
    with how to see the traceback (``ARTISTREC_DEBUG=1``), and Ctrl+C ends quietly.
    """
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # the last line of defence: anticipated errors never get here
        if os.environ.get(ENV_DEBUG, "").strip() not in ("", "0"):
            raise
        from rich.markup import escape

        err_console.print(
            f"[bold red]error:[/] unexpected {type(exc).__name__}: {escape(str(exc))}\n"
            f"This is a bug in artistrec: run the command again with {ENV_DEBUG}=1 to see "
            "where it happened, and report it.",
            soft_wrap=True,
            highlight=False,
        )
        sys.exit(1)


# ----------------------------------------------------------------------------- data
@data_app.command("info", cls=ArtistrecCommand)
def data_info(data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """Print the data set's statistics (as in the HetRec readme), for any format."""
    from artistrec.data.formats import TITLES

    try:
        with console.status("loading data set"):
            ds = load_dataset(data_dir)
    except DataError as exc:
        fail(str(exc))
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


@data_app.command("validate", cls=ArtistrecCommand)
def data_validate(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH",
            callback=check_data_dir,
            help="Folder with a data set (HetRec, Last.fm-360K or generic).",
        ),
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
        fail(f"invalid data: {exc}")
    console.print(
        f"[green]ok[/]: {escape(str(path))} loads as {TITLES.get(fmt, fmt)} "
        f"({ds.n_users:,} users, {ds.n_artists:,} artists)",
        soft_wrap=True,
    )
    console.print(f"{len(ds.findings)} finding(s):")
    for f in ds.findings:
        console.print(f"  - {escape(f)}", soft_wrap=True)


@data_app.command("download", cls=ArtistrecCommand)
def data_download(
    url: UrlOpt = None,
    dest: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            callback=check_out_dir,
            help="Cache folder to download into (default: $ARTISTREC_CACHE_DIR, else the user "
            "cache).",
        ),
    ] = None,
    timeout: TimeoutOpt = 30.0,
) -> None:
    """Download the data set into the cache (no-op when it is already there)."""
    if dest is not None:
        make_dirs(dest, "--dest")
    try:
        path = download_dataset(url=url, dest_root=dest, timeout=timeout)
    except DataError as exc:
        fail(str(exc))
    console.print(f"data set ready at {path}", soft_wrap=True, markup=False, highlight=False)


@data_app.command("synthetic", cls=ArtistrecCommand)
def data_synthetic(
    out_dir: Annotated[
        Path,
        typer.Argument(
            metavar="OUT_DIR",
            callback=check_out_dir,
            help="Folder to write the data set to (created if missing).",
        ),
    ],
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
    seed: Annotated[int, typer.Option(min=0, help="Random seed (same seed, same files).")] = 0,
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
    make_dirs(out_dir, "OUT_DIR")
    try:
        path = generate(out_dir, spec, format=data_format, progress=progress)
    except (OSError, ValueError) as exc:
        fail(f"could not write synthetic data to {out_dir}: {exc}")
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


def _print_recommendations(recs: list, title: str, as_json: bool, has_tags: bool = True) -> None:
    """Recommendations as a table (a data set without tags: no tags column, and a note)."""
    if as_json:
        print(json.dumps([r.to_dict() for r in recs], indent=2, ensure_ascii=False))
        return
    table = Table(title=title, caption=None if has_tags else "(this data set has no tags)")
    table.add_column("#", justify="right")
    table.add_column("artist")
    table.add_column("id", justify="right")
    table.add_column("score", justify="right")
    if has_tags:
        table.add_column("tags")
    table.add_column("why")
    for rank, r in enumerate(recs, 1):
        tags = [", ".join(r.tags)] if has_tags else []
        table.add_row(str(rank), r.name, str(r.artist_id), f"{r.score:.3f}", *tags, r.reason)
    console.print(table)


def _registered_models() -> list[str]:
    from artistrec.models import available_models

    return list(available_models())


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
        fail(f"training als on Spark failed: {exc}")
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
            fail(str(exc))
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
            fail(error)
    return model


@app.command("train", cls=ArtistrecCommand)
def train(
    model: Annotated[
        str,
        typer.Argument(
            metavar="MODEL",
            callback=check_model_name,
            help="Model name, e.g. default, als, ease, item-knn, seed-mf (a name that does not "
            "exist lists every model).",
        ),
    ],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", metavar="KEY=VALUE", help="Parameter override (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            callback=check_out_file,
            help="Artifact file to write (default: the cache path the service, API and web app "
            "load; missing folders are created).",
        ),
    ] = None,
    data_dir: DataDirOpt = None,
    engine: EngineOpt = "local",
    spark_master: SparkMasterOpt = None,
) -> None:
    """Train MODEL on the whole data set and save it as an artifact (npz + JSON, no pickle)."""
    import time

    from artistrec import create_model
    from artistrec.models.registry import DEFAULT_MODEL
    from artistrec.service import default_model_path, fit_with_progress

    params = dict(_parse_param(p) for p in (param or []))
    check_engine_options(model, engine, spark_master)
    try:  # a parameter the model does not accept fails here, before the data set loads
        estimator = create_model(model, **params).validate_params()
    except (ValueError, TypeError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--param") from None
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
        if out is not None:
            make_parent_dirs(out, "--out")
        saved = estimator.save(path)
    except OSError as exc:
        fail(f"could not write {path}: {exc.strerror or exc}")
    console.print(
        f"[green]trained[/] {estimator!r} in {seconds:.1f} s -> {saved}",
        soft_wrap=True,
        highlight=False,
    )


def _parse_ratings(rate: list[str]) -> list[tuple[str, int]]:
    """``"Artist Name=LEVEL"`` texts -> (name, level); exit 2 on a malformed one."""
    parsed: list[tuple[str, int]] = []
    for text in rate:
        name, sep, level = text.rpartition("=")
        if not sep or not name.strip():
            fail(f'--rate expects "Artist Name=LEVEL", got {text!r}', 2)
        try:
            lv = int(level)
        except ValueError:
            lv = -1
        if not 0 <= lv <= 5:
            fail(f"level in {text!r} must be an integer 0..5 ({LEVELS_HELP})", 2)
        parsed.append((name.strip(), lv))
    return parsed


def _not_interested_note(svc, ratings: dict[int, int]) -> str | None:  # noqa: ANN001
    """What the zero levels do, when some ratings are 0 ("not interested")."""
    zero = [a for a, lv in ratings.items() if lv == 0]
    if not zero:
        return None
    names = ", ".join(str(n) for n in svc.names_of(zero[:5])) + (" ..." if len(zero) > 5 else "")
    if len(zero) < len(ratings):
        return f"level 0 = not interested: {names} left out of the results"
    return (
        f"level 0 = not interested: {names} left out of the results. With no rating above 0 "
        "there is nothing personal to recommend from, so these are the most popular artists; "
        "rate an artist 1-5 for personal recommendations."
    )


@app.command("recommend", cls=ArtistrecCommand)
def recommend(
    user: Annotated[
        int | None, typer.Option(metavar="ID", help="Recommend for this user of the data set.")
    ] = None,
    rate: Annotated[
        list[str] | None,
        typer.Option(
            "--rate",
            "-r",
            metavar='"NAME=LEVEL"',
            help='A rating "Artist Name=LEVEL" (an artist id works too; repeatable). Levels: '
            + LEVELS_HELP
            + ".",
        ),
    ] = None,
    history: HistoryOpt = None,
    k: KOpt = 10,
    model: ModelOpt = "default",
    novelty: NoveltyOpt = 0.0,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Recommend artists for your own ratings (--rate, repeatable), your listening history
    (--history, repeatable) or a known user (--user).

    Names ignore case, accents and punctuation; a name that matches no artist gets "did you
    mean" suggestions.
    """
    from artistrec.service import InvalidRequestError, UnknownArtistError, UnknownUserError

    if history:
        if user is not None or rate:
            fail("--history cannot be combined with --user or --rate", 2)
        from artistrec.cli_history import recommend_from_history

        return recommend_from_history(history, k, model, novelty, as_json, data_dir)
    if (user is None) == (not rate):
        fail('give either --user ID, at least one --rate "Artist Name=LEVEL" or --history FILE', 2)
    if user is not None and novelty:
        fail("--novelty works with --rate (your own ratings), not with --user", 2)
    parsed = _parse_ratings(rate or [])
    svc = _load_service(data_dir, model)
    note_text = None
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
            note_text = _not_interested_note(svc, ratings)
            liked = sum(1 for lv in ratings.values() if lv > 0)
            if liked:
                title = f"Recommendations from {liked} rating(s) ({svc.model(model).name})"
            else:
                title = "Most popular artists (no rating above 0: nothing personal to go on)"
    except UnknownArtistError as exc:
        hint = f"; did you mean: {', '.join(exc.suggestions)}" if exc.suggestions else ""
        fail(f"no artist named {exc.query!r}{hint}")
    except (UnknownUserError, InvalidRequestError) as exc:
        fail(str(exc), 2)
    if note_text:
        note(note_text)
    _print_recommendations(recs, title, as_json, svc.dataset.has_tags)


@app.command("similar", cls=ArtistrecCommand)
def similar(
    artist: Annotated[
        str,
        typer.Argument(
            metavar="ARTIST", help="Artist name (case, accents and punctuation ignored) or id."
        ),
    ],
    k: KOpt = 10,
    measure: Annotated[
        str,
        typer.Option(
            metavar="cosine|dot",
            callback=check_measure,
            help="cosine (direction only) or dot (also rewards popular artists).",
        ),
    ] = "cosine",
    model: ModelOpt = "default",
    as_json: JsonOpt = False,
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
    _print_recommendations(
        recs, f"Artists similar to {name} ({measure})", as_json, svc.dataset.has_tags
    )


#: ``--model`` on ``serve`` and ``app`` before ``--artifact`` existed: a file (deprecated).
LegacyModelPathOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        metavar="NAME",
        hidden=True,
        help="Deprecated spelling of --artifact PATH.",
    ),
]


@app.command("serve", cls=ArtistrecCommand)
def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    db: DbOpt = None,
    artifact: ArtifactOpt = None,
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
    legacy_model: LegacyModelPathOpt = None,
) -> None:
    """Run the HTTP API (FastAPI + uvicorn). Set ARTISTREC_ADMIN_TOKEN to enable /admin/reload.

    Behind a reverse proxy see docs/DEPLOYMENT.md.
    """
    from artistrec.api.server import ServerLimits, prepare_artifact, run
    from artistrec.service import InvalidRequestError
    from artistrec.store.artifacts import ArtifactError
    from artistrec.store.profiles import StoreError, open_profile_store

    name, model = split_model_option(legacy_model, artifact, "serve")
    if name is not None:
        fail(
            "serve answers each request with the model the request names (the default model "
            "otherwise): give a model file to serve as the default with --artifact PATH",
            2,
        )
    check_bindable(host, port)

    limits = ServerLimits(
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        keep_alive=keep_alive,
        max_connections=max_connections,
        max_inflight=max_inflight,
        reload_poll=reload_poll,
    )
    try:  # before loading the model: a wrong --db fails in a second, not after training
        if db is not None and "://" not in db:
            make_parent_dirs(Path(db), "--db")
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
        f"(profiles: {store.location}); docs at /docs",
        soft_wrap=True,
        highlight=False,
        markup=False,
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
PROTOCOL_NAMES = ("warm", "new-users", "recbole")


def _check_protocol(value: str) -> str:
    if value not in PROTOCOL_NAMES:
        raise typer.BadParameter(f"choose one of {', '.join(PROTOCOL_NAMES)}, got {value!r}")
    return value


def _check_models(value: str | None) -> str | None:
    if value is None:
        return None
    names = [m.strip() for m in value.split(",") if m.strip()]
    if not names:
        raise typer.BadParameter("give at least one model name, e.g. --models als,ease")
    known = _registered_models()
    unknown = [m for m in names if m not in known]
    if unknown:
        raise typer.BadParameter(
            f"unknown model(s) {', '.join(map(repr, unknown))}; choose from {', '.join(known)}"
        )
    return value


def _int_list(value: str, what: str, low: int) -> list[int]:
    try:
        out = [int(s) for s in value.split(",") if s.strip()]
    except ValueError:
        raise typer.BadParameter(f"{what}: comma-separated integers, got {value!r}") from None
    if not out:
        raise typer.BadParameter(f"{what}: give at least one integer")
    if min(out) < low:
        raise typer.BadParameter(f"{what}: integers >= {low}, got {value!r}")
    return out


def _check_seeds(value: str) -> str:
    _int_list(value, "split seeds", 0)
    return value


def _check_n_revealed(value: str) -> str:
    _int_list(value, "artists revealed", 1)
    return value


def _check_folds(value: int) -> int:
    if value < 0 or value == 1:
        raise typer.BadParameter(f"0 (one 20% hold-out) or 2 and more folds, got {value}")
    return value


def _check_latency_runs(value: str) -> str:
    if value not in ("first", "all"):
        raise typer.BadParameter(f"first or all, got {value!r}")
    return value


@app.command("evaluate", cls=ArtistrecCommand)
def evaluate_cmd(
    protocol: Annotated[
        str,
        typer.Option(
            metavar="warm|new-users|recbole",
            callback=_check_protocol,
            help="Evaluation protocol (see docs/BENCHMARKS.md).",
        ),
    ] = "warm",
    models: Annotated[
        str | None,
        typer.Option(
            metavar="NAME,NAME",
            callback=_check_models,
            help="Comma-separated model names (default: every available model).",
        ),
    ] = None,
    params: Annotated[
        str | None,
        typer.Option(
            metavar="JSON",
            help='JSON {model: {param: value}} overrides, e.g. \'{"als": {"factors": 64}}\'.',
        ),
    ] = None,
    k: Annotated[int, typer.Option(min=1, help="List length K of the metrics.")] = 10,
    seeds: Annotated[
        str, typer.Option(metavar="N,N", callback=_check_seeds, help="Comma-separated split seeds.")
    ] = "0,1,2",
    folds: Annotated[
        int,
        typer.Option(
            callback=_check_folds,
            help="new-users: folds of the CV over users (0 = one 20% hold-out).",
        ),
    ] = 10,
    n_revealed: Annotated[
        str,
        typer.Option(
            "--n-revealed",
            metavar="N,N",
            callback=_check_n_revealed,
            help="new-users: artists revealed, comma-separated.",
        ),
    ] = "3,5,10",
    latency_requests: Annotated[
        int,
        typer.Option(min=0, help="Single new-user requests timed per fitted model (0 = skip)."),
    ] = 200,
    latency_runs: Annotated[
        str,
        typer.Option(
            metavar="first|all",
            callback=_check_latency_runs,
            help="Time fold-in on the first fit of each model or on all fits.",
        ),
    ] = "first",
    max_users: Annotated[
        int | None,
        typer.Option(min=1, help="new-users: evaluate at most this many random users per fold."),
    ] = None,
    fixed_test: Annotated[
        bool,
        typer.Option(help="new-users: score every N against the artists left after the largest N."),
    ] = False,
    out: Annotated[
        Path,
        typer.Option(
            metavar="PATH",
            callback=check_out_dir,
            help="Folder for the CSV, JSON and PNG results (created if missing).",
        ),
    ] = Path("results"),
    data_dir: DataDirOpt = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Evaluate models offline (leak-free splits) and write CSV + JSON + PNG charts to OUT."""
    from rich.markup import escape

    from artistrec.evaluation.report import rich_table, summarize, write_outputs
    from artistrec.evaluation.runner import default_model_names, evaluate_detailed

    seed_list = _int_list(seeds, "split seeds", 0)
    ns = _int_list(n_revealed, "artists revealed", 1)
    names = [m.strip() for m in models.split(",") if m.strip()] if models else default_model_names()
    try:
        overrides = json.loads(params) if params else {}
    except json.JSONDecodeError as exc:
        fail(f"--params is not valid JSON: {exc}", 2)
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        fail("--params must be a JSON object {model: {param: value}}", 2)
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        fail(f"--params names model(s) not being evaluated: {', '.join(unknown)}", 2)
    spec = {name: overrides.get(name, {}) for name in names}
    _check_model_params(spec)
    try:
        ds = load_dataset(data_dir)
    except DataError as exc:
        fail(str(exc))
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
        fail(str(exc))
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
    try:
        make_dirs(out, "--out")
        written = write_outputs(result.summary, out, result.per_user, meta=meta)
    except OSError as exc:
        fail(f"could not write the results to {out}: {exc.strerror or exc}")
    for path in written:
        console.print(f"wrote {escape(str(path))}", soft_wrap=True, highlight=False)


def _check_model_params(spec: dict[str, dict]) -> None:
    """Every model of ``spec`` can be built with its parameters (before any data loads)."""
    from artistrec import create_model

    for name, params in spec.items():
        try:
            create_model(name, **params)
        except (ValueError, TypeError) as exc:
            fail(f"--params for {name}: {exc}", 2)


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


@app.command("app", cls=ArtistrecCommand)
def web_app(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8501,
    artifact: ArtifactOpt = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            metavar="NAME",
            help="Model preselected in the sidebar (default: $ARTISTREC_APP_MODEL, else "
            "default); people can switch models in the app.",
        ),
    ] = None,
    data_dir: DataDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Run the web app (Streamlit) on http://HOST:PORT; trains the default model first if needed.

    The data set and the model are loaded (and the artifact checked) before the server starts,
    into the app's process-wide cache: the first visitor gets recommendations at once.
    """
    import threading

    from artistrec.models.registry import DEFAULT_MODEL
    from artistrec.service import (
        ENV_PROFILE_DB,
        InvalidRequestError,
        RecommenderService,
        default_model_path,
        open_store,
    )
    from artistrec.store.artifacts import ArtifactError
    from artistrec.store.profiles import StoreError

    model, artifact = split_model_option(model, artifact, "app")
    if model is not None:
        try:
            check_model_name(model)
        except typer.BadParameter as exc:
            raise typer.BadParameter(exc.message, param_hint="--model") from None
    check_bindable(host, port)
    try:  # a wrong --db fails now, not on the first save
        if db is not None and "://" not in db:
            make_parent_dirs(Path(db), "--db")
        open_store(db).close()
    except StoreError as exc:
        fail(str(exc))

    from artistrec.app.common import ENV_DATA_DIR, ENV_MODEL, ENV_MODEL_PATH

    if data_dir is not None:
        os.environ[ENV_DATA_DIR] = str(data_dir.resolve())
    if artifact is not None:
        os.environ[ENV_MODEL_PATH] = str(artifact.resolve())
    if model is not None:
        os.environ[ENV_MODEL] = model
    if db is not None:
        os.environ[ENV_PROFILE_DB] = db if "://" in db else str(Path(db).resolve())
    try:
        with console.status("loading data set"):
            ds = load_dataset(data_dir)
        svc = RecommenderService(ds, model_path=artifact, progress=True)
        if artifact is None and not default_model_path(DEFAULT_MODEL, ds.fingerprint).is_file():
            note(f"no trained {DEFAULT_MODEL!r} model yet: training it once (cached)")
        with console.status("loading the model"):
            svc.model("default")  # reads and checks the artifact, or trains the default once
    except (DataError, ArtifactError, InvalidRequestError, ValueError) as exc:
        fail(str(exc))

    from streamlit.web import cli as streamlit_cli

    from artistrec.app.common import adopt_service, warm_up

    adopt_service(svc)
    threading.Thread(target=warm_up, name="artistrec-warm-up", daemon=True).start()
    console.print(
        f"web app on http://{host}:{port} (Ctrl+C stops it)", highlight=False, markup=False
    )
    streamlit_cli.main(args=streamlit_args(host, port), prog_name="streamlit")


if __name__ == "__main__":  # pragma: no cover
    main()
