"""The ``artistrec`` command line (Typer). Every command calls :mod:`artistrec.service` or the data layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from artistrec.data import DataError, load_dataset
from artistrec.data.source import download_dataset

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
        help="Directory with the HetRec files (default: $LASTFM_DATA_DIR, the cache, else download).",
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
    """Print the data set's statistics (as in the HetRec readme)."""
    try:
        with console.status("loading data set"):
            ds = load_dataset(data_dir)
    except DataError as exc:
        fail(str(exc))
    stats = ds.summary()
    if as_json:
        print(json.dumps({"fingerprint": ds.fingerprint, **stats}, indent=2))
        return
    table = Table(title=f"HetRec 2011 Last.fm (fingerprint {ds.fingerprint})")
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
    for key, label in labels.items():
        table.add_row(label, f"{stats[key]:,}")
    console.print(table)


@data_app.command("validate")
def data_validate(
    path: Annotated[Path, typer.Argument(help="Directory with the HetRec files to check.")],
) -> None:
    """Validate the files in PATH: fatal problems exit 1; findings are listed."""
    try:
        with console.status(f"validating {path}"):
            ds = load_dataset(path, use_cache=False, download=False)
    except DataError as exc:
        fail(f"invalid data: {exc}")
    console.print(f"[green]ok[/]: {path} loads ({ds.n_users:,} users, {ds.n_artists:,} artists)")
    console.print(f"{len(ds.findings)} finding(s):")
    for f in ds.findings:
        console.print(f"  - {f}")


@data_app.command("download")
def data_download(
    url: Annotated[str | None, typer.Option(help="Zip URL (default: GroupLens).")] = None,
    dest: Annotated[Path | None, typer.Option(help="Cache root (default: user cache).")] = None,
) -> None:
    """Download the data set into the cache (no-op when it is already there)."""
    try:
        path = download_dataset(url=url, dest_root=dest)
    except DataError as exc:
        fail(str(exc))
    console.print(f"data set ready at {path}")


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
) -> None:
    """Train MODEL on the whole data set and save it as an artifact (npz + JSON, no pickle)."""
    import time

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from artistrec import available_models, create_model
    from artistrec.models.registry import DEFAULT_MODEL
    from artistrec.service import default_model_path

    params = dict(_parse_param(p) for p in (param or []))
    if model not in available_models():
        fail(f"unknown model {model!r}; available: {', '.join(available_models())}")
    try:
        estimator = create_model(model, **params)
    except ValueError as exc:
        fail(str(exc))
    try:
        with console.status("loading data set"):
            ds = load_dataset(data_dir)
    except DataError as exc:
        fail(str(exc))
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"training {estimator!r} on {ds.n_users:,} users", total=None)
        start = time.perf_counter()
        try:
            estimator.fit(ds)
        except (ValueError, TypeError) as exc:
            fail(f"training {model} failed: {exc}")
        seconds = time.perf_counter() - start
        progress.update(task, completed=1, total=1)
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
    k: Annotated[int, typer.Option(help="Number of recommendations (1..500).")] = 10,
    model: Annotated[str, typer.Option(help="Model name.")] = "default",
    novelty: Annotated[
        float, typer.Option(help="0..1: trade score for less popular artists.")
    ] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Recommend artists for a known user (--user) or for your own ratings (--rate, repeatable)."""
    from artistrec.service import InvalidRequestError, UnknownArtistError, UnknownUserError

    if (user is None) == (not rate):
        fail('give either --user ID or at least one --rate "Artist Name=LEVEL"', 2)
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
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    db: Annotated[
        Path | None, typer.Option(help="SQLite profile database (default: in the cache dir).")
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Model artifact to serve (default: cached default model)."),
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Run the HTTP API (FastAPI + uvicorn). Set ARTISTREC_ADMIN_TOKEN to enable /admin/reload."""
    import uvicorn

    from artistrec.api.app import create_app
    from artistrec.store.profiles import ProfileStore, StoreError

    svc = _load_service(data_dir, "default", model)
    try:
        store = ProfileStore(db) if db is not None else ProfileStore.default()
    except StoreError as exc:
        fail(str(exc))
    console.print(
        f"serving {svc.model().name} on http://{host}:{port} (profiles: {store.path}); "
        f"docs at /docs"
    )
    uvicorn.run(create_app(svc, store), host=host, port=port, log_level="info")


if __name__ == "__main__":  # pragma: no cover
    app()
