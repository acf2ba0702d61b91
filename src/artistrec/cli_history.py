"""``artistrec recommend --history FILE ...``: import a listening history, print what was read and
matched, then the recommendations (or, with ``--json``, exactly the service's one object)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

#: Unmatched names listed in the human output (the most played); the rest are counted.
SHOW_UNMATCHED = 20
#: Fuzzy matches to confirm listed in the human output (the most played).
SHOW_TO_CONFIRM = 20


def recommend_from_history(
    paths: Sequence[Path],
    k: int,
    model: str,
    novelty: float,
    as_json: bool,
    data_dir: Path | None,
) -> None:
    """Read the history files, recommend from them and print the result."""
    from artistrec.cli import _load_service, console, fail
    from artistrec.service import InvalidRequestError, UnknownArtistError

    for path in paths:  # before loading anything: a typo fails in a moment
        if not path.is_file():
            what = "is a folder, not a file" if path.is_dir() else "does not exist"
            fail(escape(f"--history {path} {what}"), 2)
    svc = _load_service(data_dir, model)
    try:
        with console.status("reading the listening history") as status:

            def progress(done: int, total: int) -> None:
                status.update(f"reading the listening history: {done} of {total} file(s) read")

            body = svc.import_history(
                list(paths), k=k, model=model, novelty=novelty, progress=progress
            )
    except (InvalidRequestError, UnknownArtistError) as exc:
        fail(escape(str(exc)), 2)
    if as_json:
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return
    print_history(body)


def _n(count: int, word: str) -> str:
    """``"1 play"``, ``"2,345 plays"``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def print_history(body: dict[str, Any]) -> None:
    """The human output: read, matched, unmatched, to confirm, then the recommendations."""
    from artistrec.cli import console

    read, matched = body["read"], body["matched"]
    files = read["files"]
    console.print(
        f"Read {_n(read['plays'], 'play')} of {_n(read['artists'], 'artist')} "
        f"from {_n(len(files), 'file')}"
        + (f" ({', '.join(sorted({f['format'] for f in files}))})" if files else "")
        + ".",
        soft_wrap=True,
    )
    notes = []
    if read["skipped_rows"]:
        notes.append(f"{read['skipped_rows']:,} rows without an artist (podcasts, videos) skipped")
    if read["short_streams"]:
        notes.append(f"{read['short_streams']:,} streams shorter than 30 s not counted")
    for ignored in read["ignored_files"]:
        notes.append(f"{escape(ignored['file'])} ignored: {escape(ignored['reason'])}")
    for note in notes:
        console.print(f"  {note}", soft_wrap=True)

    kinds: dict[str, int] = {}
    for r in body["ratings"]:
        kinds[r["match"]] = kinds.get(r["match"], 0) + 1
    how = ", ".join(f"{n:,} {kind}" for kind, n in kinds.items())
    share = matched["plays"] / read["plays"] if read["plays"] else 0.0
    console.print(
        f"Matched [bold]{_n(matched['artists'], 'artist')}[/] to the catalogue "
        f"({_n(matched['plays'], 'play')}, {share:.0%})" + (f": {how}" if how else "") + ".",
        soft_wrap=True,
    )
    used = len(body["profile"]["ratings"])
    if used < matched["artists"]:
        console.print(
            f"  The recommendations use the {used:,} most played of them; the other "
            f"{matched['artists'] - used:,} are not recommended either.",
            soft_wrap=True,
        )

    unmatched = body["unmatched"]
    if unmatched:
        shown = ", ".join(
            f"{escape(u['name'])} ({u['plays']:,})" for u in unmatched[:SHOW_UNMATCHED]
        )
        more = len(unmatched) - SHOW_UNMATCHED
        console.print(
            f"Not in the catalogue: {_n(len(unmatched), 'name')}, most played first: {shown}"
            + (f" and {more:,} more." if more > 0 else "."),
            soft_wrap=True,
        )

    pending = body["to_confirm"]
    if pending:
        table = Table(title="Close matches to confirm (not applied, not recommended)")
        table.add_column("in your history")
        table.add_column("plays", justify="right")
        table.add_column("catalogue artist")
        table.add_column("id", justify="right")
        table.add_column("score", justify="right")
        for c in pending[:SHOW_TO_CONFIRM]:
            table.add_row(
                escape(c["name"]),
                f"{c['plays']:,}",
                escape(c["artist_name"]),
                str(c["artist_id"]),
                f"{c['score']:.0f}",
            )
        console.print(table)
        if len(pending) > SHOW_TO_CONFIRM:
            console.print(f"  and {len(pending) - SHOW_TO_CONFIRM:,} more (see --json).")
        first = pending[0]
        console.print(
            "  To use one, add its catalogue name and plays to an artist,plays CSV and pass it "
            f'with another --history (e.g. a line "{escape(first["artist_name"])}",'
            f"{first['plays']}).",
            soft_wrap=True,
        )

    recs = body["recommendations"]
    table = Table(title=f"Recommendations from your listening history ({body['model']})")
    table.add_column("#", justify="right")
    table.add_column("artist")
    table.add_column("id", justify="right")
    table.add_column("score", justify="right")
    table.add_column("tags")
    table.add_column("why")
    for rank, r in enumerate(recs, 1):
        table.add_row(
            str(rank),
            escape(r["name"]),
            str(r["artist_id"]),
            f"{r['score']:.3f}",
            escape(", ".join(r["tags"])),
            escape(r["reason"]),
        )
    console.print(table)
