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


if __name__ == "__main__":  # pragma: no cover
    app()
