"""The "Import listening history" panel of the recommendations page (UI only, not a page).

The person uploads export files (Spotify JSON, Last.fm scrobbles CSV, an artist,plays table, or
zips of them); :meth:`RecommenderService.read_history` reads them in memory and they are dropped
from the uploader once imported: nothing is written anywhere unless the person saves a profile.
The summary (plays, artists, matched, unmatched names, close matches to confirm) stays in the
session. The most played matched artists enter the page's rating list with their levels through
the page's own ``add`` callback, so they are edited or removed like hand-added ones; every other
artist of the history is left out of the recommendations (:func:`history_exclusions`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from artistrec.app.common import md
from artistrec.history import MAX_FILE_BYTES
from artistrec.service import MAX_EXCLUDE, InvalidRequestError, RecommenderService
from artistrec.service.history import fold_in

#: Unmatched names written out in the summary (the most played); the table lists them all.
SHOW_UNMATCHED = 20
#: Close matches offered for confirmation at a time (the most played first).
SHOW_TO_CONFIRM = 10

_SUMMARY = "history_summary"  # what was read and matched (no file content)
_PENDING = "history_pending"  # close matches awaiting confirmation
_EXCLUDE = "history_exclude"  # artist ids of the history that are not in the rating list
_ADDED = "history_added"  # artist ids this import put in the rating list
_UPLOADS = "history_uploads"  # uploader generation: a new key empties the uploader
_ERROR = "history_error"

Add = Callable[[int, str, int], None]
Remove = Callable[[int], None]


def history_exclusions() -> list[int]:
    """Artist ids of the imported history the recommendations must leave out (besides the
    rated ones): matched artists beyond the rating list and matches awaiting confirmation."""
    return list(st.session_state.get(_EXCLUDE, {}))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _import(svc: RecommenderService, files: list[Any], add: Add) -> None:
    """Read the uploaded files with a progress indicator; rate, exclude and summarise."""
    ss = st.session_state
    with st.status(f"Importing {_plural(len(files), 'file')}…", expanded=True) as status:
        bar = st.progress(0.0, text=f"Reading 1 of {len(files)}…")

        def progress(done: int, total: int) -> None:
            text = f"Reading {done + 1} of {total}…" if done < total else "Matching artists…"
            bar.progress(done / total, text=text)

        try:
            result = svc.read_history([(f.name, f.getvalue()) for f in files], progress=progress)
        except InvalidRequestError as exc:
            status.update(label="The history could not be imported", state="error")
            ss[_ERROR] = str(exc)
            return
        status.update(label="Imported", state="complete")
    ratings, exclude = fold_in(result)
    names = {r.artist_id: r.name for r in result.ratings}
    for artist_id, level in ratings.items():
        add(artist_id, names[artist_id], level)
    # a second import adds to the first (its summary replaces the first one's)
    ss[_ADDED] = {**ss.get(_ADDED, {}), **dict.fromkeys(ratings)}
    ss[_EXCLUDE] = dict.fromkeys([*ss.get(_EXCLUDE, {}), *exclude][:MAX_EXCLUDE])
    names_now = {c["name"] for c in result.to_confirm}
    older = [c for c in ss.get(_PENDING, []) if c["name"] not in names_now]
    ss[_PENDING] = [*result.to_confirm, *older]
    kinds: dict[str, int] = {}
    for r in result.ratings:
        kinds[r.match] = kinds.get(r.match, 0) + 1
    ss[_SUMMARY] = {
        "read": result.read,
        "matched": result.matched,
        "kinds": kinds,
        "rated": len(ratings),
        "unmatched": result.unmatched,
    }
    ss.pop(_ERROR, None)
    ss[_UPLOADS] = ss.get(_UPLOADS, 0) + 1  # empties the uploader: the bytes are dropped


def _clear_error() -> None:
    st.session_state.pop(_ERROR, None)


def _accept(candidate: dict[str, Any], add: Add) -> None:
    add(int(candidate["artist_id"]), str(candidate["artist_name"]), int(candidate["level"]))
    _drop_pending(candidate)


def _reject(candidate: dict[str, Any]) -> None:
    """Not that artist: it is no longer left out of the recommendations."""
    st.session_state.get(_EXCLUDE, {}).pop(int(candidate["artist_id"]), None)
    _drop_pending(candidate)


def _drop_pending(candidate: dict[str, Any]) -> None:
    ss = st.session_state
    ss[_PENDING] = [c for c in ss.get(_PENDING, []) if c["name"] != candidate["name"]]


def _forget(remove: Remove) -> None:
    """Undo the import: its artists leave the rating list, the summary goes."""
    ss = st.session_state
    for artist_id in ss.get(_ADDED, {}):
        remove(artist_id)
    for key in (_SUMMARY, _PENDING, _EXCLUDE, _ADDED, _ERROR):
        ss.pop(key, None)


def _summary(summary: dict[str, Any]) -> None:
    read, matched = summary["read"], summary["matched"]
    files = read["files"]
    st.success(
        f"Read {_plural(read['plays'], 'play')} of {_plural(read['artists'], 'artist')} "
        f"from {_plural(len(files), 'file')}."
    )
    notes = []
    if read["skipped_rows"]:
        notes.append(f"{read['skipped_rows']:,} rows without an artist (podcasts, videos) skipped")
    if read["short_streams"]:
        notes.append(f"{read['short_streams']:,} streams shorter than 30 s not counted")
    notes += [
        f"{md(i['file'].rsplit('/', 1)[-1])} ignored ({md(i['reason'])})"
        for i in read["ignored_files"]
    ]
    if notes:
        st.caption(" · ".join(notes))
    share = matched["plays"] / read["plays"] if read["plays"] else 0.0
    how = ", ".join(f"{n:,} {kind}" for kind, n in summary["kinds"].items())
    text = (
        f"**Matched {_plural(matched['artists'], 'artist')}** "
        f"({_plural(matched['plays'], 'play')}, {share:.0%})" + (f": {how}." if how else ".")
    )
    if summary["rated"]:
        text += f" The {summary['rated']:,} most played are in your ratings below"
        rest = matched["artists"] - summary["rated"]
        text += (
            f"; the other {rest:,} are never recommended." if rest > 0 else ", with their levels."
        )
    st.markdown(text)
    unmatched = summary["unmatched"]
    if unmatched:
        shown = ", ".join(f"{md(u['name'])} ({u['plays']:,})" for u in unmatched[:SHOW_UNMATCHED])
        more = len(unmatched) - SHOW_UNMATCHED
        st.markdown(
            f"**Not in the catalogue:** {_plural(len(unmatched), 'name')}, most played first: "
            + shown
            + (f" and {more:,} more." if more > 0 else ".")
        )
        if more > 0:
            st.dataframe(
                pd.DataFrame(unmatched),
                height=180,
                hide_index=True,
                column_config={"name": "not in the catalogue", "plays": "plays"},
            )


def _pending(add: Add) -> None:
    pending = st.session_state.get(_PENDING, [])
    if not pending:
        return
    st.markdown(
        f"**Close matches to confirm** ({len(pending):,}; not used, and not recommended, "
        "until you accept them):"
    )
    for c in pending[:SHOW_TO_CONFIRM]:
        c_text, c_yes, c_no = st.columns([5, 1, 1], vertical_alignment="center")
        c_text.markdown(
            f"“{md(c['name'])}” ({_plural(c['plays'], 'play')}) → **{md(c['artist_name'])}**?"
        )
        c_yes.button(
            "",
            icon=":material/check:",
            key=f"history_accept_{c['artist_id']}_{c['name']}",
            help=f"Yes: rate {c['artist_name']} at level {c['level']}",
            on_click=_accept,
            args=(c, add),
        )
        c_no.button(
            "",
            icon=":material/close:",
            key=f"history_reject_{c['artist_id']}_{c['name']}",
            help=f"No, “{c['name']}” is not {c['artist_name']}",
            on_click=_reject,
            args=(c,),
        )
    if len(pending) > SHOW_TO_CONFIRM:
        st.caption(f"{len(pending) - SHOW_TO_CONFIRM:,} more after these.")


def history_panel(svc: RecommenderService, add: Add, remove: Remove) -> None:
    """The panel: uploader, import with progress, summary, matches to confirm.

    ``add(artist_id, name, level)`` puts an artist in the page's rating list with a level;
    ``remove(artist_id)`` takes one out.
    """
    ss = st.session_state
    summary = ss.get(_SUMMARY)
    with st.expander(
        "Import listening history", icon=":material/upload_file:", key="history_panel"
    ):
        st.caption(
            "Spotify (extended streaming history or account data, JSON), Last.fm scrobbles "
            "(CSV) or a CSV/TSV of artist,plays: several files at once, or the zip you "
            "downloaded. Files are read in memory and not kept; your ratings are stored only "
            "if you save a profile."
        )
        files = st.file_uploader(
            "Export files",
            accept_multiple_files=True,
            key=f"history_files_{ss.get(_UPLOADS, 0)}",
            max_upload_size=MAX_FILE_BYTES // 2**20,
            help="The format is recognised from the content, whatever the file is called.",
            on_change=_clear_error,
        )
        if st.button("Import", key="history_import", disabled=not files, icon=":material/upload:"):
            _import(svc, list(files or []), add)
            if _ERROR not in ss:
                st.rerun()
        if _ERROR in ss:
            st.error(ss[_ERROR])
        if summary:
            _summary(summary)
            _pending(add)
            st.button(
                "Forget this import",
                key="history_forget",
                type="tertiary",
                icon=":material/delete:",
                on_click=_forget,
                args=(remove,),
                help="Removes the imported artists from your ratings and the summary.",
            )
