"""Similar artists: pick an artist and see its nearest neighbours under the chosen model."""

from __future__ import annotations

import streamlit as st

from artistrec.app.common import (
    card_grid,
    get_model,
    get_service,
    md,
    model_choice,
    tags_note,
)
from artistrec.service import MAX_QUERY_CHARS, InvalidRequestError, UnknownArtistError

svc = get_service()

with st.sidebar:
    st.subheader("Settings")
    k = st.slider("Number of results", 3, 48, 12, step=3, key="sim_k", persist_state="session")
    model_name = model_choice()
    measure = st.radio(
        "Similarity",
        ["cosine", "dot"],
        key="sim_measure",
        persist_state="session",
        horizontal=True,
        help="cosine compares directions only; dot also rewards strong (often popular) artists.",
    )

st.title(":material/hub: Similar artists")
st.caption("Pick an artist to see the artists the model places closest to it.")

query = st.text_input(
    "Search the catalogue",
    key="sim_search",
    max_chars=MAX_QUERY_CHARS,
    placeholder="e.g. radiohead, björk",
    help="Type part of a name and press Enter; empty lists the most listened artists. Case, "
    "accents and punctuation are ignored, and names in other scripts are found by their "
    "Latin spelling too (e.g. ariya for Ария).",
)
try:
    hits = svc.search_artists(query, limit=50)
    suggestions = svc.did_you_mean(query) if query.strip() else []
except InvalidRequestError as exc:
    st.error(str(exc))
    st.stop()
if suggestions:  # a near miss: the closest names first in the list below
    st.caption(
        f"No artist is named “{md(query.strip())}”. Did you mean: "
        + ", ".join(md(h.name) for h in suggestions)
        + "?"
    )
    hits = suggestions + [h for h in hits if h.id not in {s.id for s in suggestions}]
if not hits:
    st.warning(f"No artist matches “{md(query.strip())}”.")
    st.stop()

by_id = {h.id: h for h in hits}
artist_id = st.selectbox(
    "Artist",
    list(by_id),
    format_func=lambda a: (
        f"{by_id[a].name} · {by_id[a].listeners:,} listener{'s' if by_id[a].listeners != 1 else ''}"
    ),
    key="sim_artist",
)
info = svc.artist_info(artist_id)
tags = " ".join(f":gray-badge[{md(t)}]" for t in info["tags"]) or "no tags"
link = f"[{md(info['name'])}](<{info['url']}>)" if info["url"] else md(info["name"])
tag_line = f"  \n{tags}" if svc.dataset.has_tags else ""
st.markdown(f"**{link}** · {info['listeners']:,} listeners{tag_line}")

if get_model(svc, model_name) is None:
    st.stop()
try:
    recs = svc.similar(artist_id, k=k, measure=measure, model=model_name)
except (InvalidRequestError, UnknownArtistError) as exc:
    st.error(f"Could not compute similar artists: {exc}")
    st.stop()

st.subheader(f"Artists similar to {md(info['name'])}")
st.caption(f"{len(recs)} nearest neighbours by {measure} similarity under model “{model_name}”.")
card_grid(recs, columns=4, score_label=measure)
tags_note()
