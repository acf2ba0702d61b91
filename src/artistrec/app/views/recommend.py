"""Get recommendations: search the catalogue, rate artists 1-5, see recommendations update live."""

from __future__ import annotations

import time

import streamlit as st

from artistrec.app.common import (
    DEFAULT_LEVEL,
    LEVELS,
    SCALE_LEGEND,
    card_grid,
    get_model,
    get_profiles,
    get_service,
    level_label,
    md,
    model_choice,
    recommendations_frame,
)
from artistrec.app.views.history import history_exclusions, history_panel
from artistrec.service import MAX_QUERY_CHARS, InvalidRequestError, UnknownArtistError
from artistrec.store.profiles import (
    InvalidProfileError,
    NotOwnerError,
    ProfileNotFoundError,
    StoreError,
)

SEARCH_LIMIT = 8

svc = get_service()
ss = st.session_state
ss.setdefault("picked", {})  # artist id -> name, in the order added
ss.setdefault("hidden", {})  # artist id -> name, marked "not interested"
picked: dict[int, str] = ss["picked"]
hidden: dict[int, str] = ss["hidden"]


def _level_key(artist_id: int) -> str:
    return f"level_{artist_id}"


def add_artist(artist_id: int, name: str, level: int = DEFAULT_LEVEL) -> None:
    picked[int(artist_id)] = name
    ss[_level_key(artist_id)] = level
    hidden.pop(int(artist_id), None)


def add_by_name(name: str) -> None:
    artist_id = svc.resolve_artist(name)
    add_artist(artist_id, svc.artist_info(artist_id)["name"])


def remove_artist(artist_id: int) -> None:
    picked.pop(int(artist_id), None)
    ss.pop(_level_key(artist_id), None)


def clear_artists() -> None:
    for artist_id in list(picked):
        remove_artist(artist_id)


def hide_artist(artist_id: int, name: str) -> None:
    hidden[int(artist_id)] = name


def unhide_all() -> None:
    hidden.clear()


#: What a failed save or load tells the person (the store's and the service's errors).
PROFILE_ERRORS = (
    ProfileNotFoundError,
    NotOwnerError,
    InvalidProfileError,
    InvalidRequestError,
    UnknownArtistError,
    StoreError,
)


def _profile_error(exc: Exception) -> str:
    if isinstance(exc, NotOwnerError):
        return "This owner token does not own the profile: check the id and the token."
    if isinstance(exc, ProfileNotFoundError):
        return f"No saved profile has the id “{md(exc.profile_id)}”."
    if isinstance(exc, StoreError):
        return f"The profile database is unavailable: {exc}"
    return f"Could not save the profile: {exc}"


def save_profile() -> None:
    """Store the current ratings: a new profile, or the given one when id and token are set."""
    ratings = {a: int(ss.get(_level_key(a), DEFAULT_LEVEL)) for a in picked}
    ratings.update({a: 0 for a in hidden if a not in ratings})  # "not interested" = level 0
    profile_id = ss.get("profile_id", "").strip() or None
    token = ss.get("profile_token", "").strip() or None
    if not picked:
        ss["profile_msg"] = ("error", "Rate at least one artist before saving.")
        return
    try:
        pid, tok = get_profiles().save(
            ratings, ss.get("profile_name", "").strip() or None, profile_id, token
        )
    except PROFILE_ERRORS as exc:
        ss["profile_msg"] = ("error", _profile_error(exc))
        return
    ss["profile_id"], ss["profile_token"] = pid, tok
    verb = "Updated" if profile_id else "Saved"
    ss["profile_msg"] = ("success", f"{verb} profile {pid}.")


def load_profile() -> None:
    """Replace the current ratings with those of the stored profile whose id is entered."""
    profile_id = ss.get("profile_id", "").strip()
    if not profile_id:
        ss["profile_msg"] = ("error", "Enter the id of a saved profile to load it.")
        return
    try:
        profile = get_profiles().load(profile_id)
    except PROFILE_ERRORS as exc:
        ss["profile_msg"] = ("error", _profile_error(exc))
        return
    clear_artists()
    hidden.clear()
    names = svc.names_of(profile.ratings)
    for (artist_id, level), name in zip(profile.ratings.items(), names, strict=True):
        if level > 0:
            picked[artist_id] = str(name)
            ss[_level_key(artist_id)] = level
        else:
            hidden[artist_id] = str(name)
    ss["profile_name"] = profile.display_name or ""
    ss["profile_token"] = ""
    ss["profile_msg"] = (
        "success",
        f"Loaded {len(picked)} rated artist(s) from profile {profile.id}.",
    )


# ----------------------------------------------------------------------------- sidebar controls
with st.sidebar:
    st.subheader("Settings")
    k = st.slider("Number of results", 3, 48, 12, step=3, key="k", persist_state="session")
    model_name = model_choice()
    novelty = st.slider(
        "Discovery",
        0.0,
        1.0,
        0.0,
        step=0.1,
        key="novelty",
        persist_state="session",
        help="0 = the model's best matches; higher values favour lesser-known artists.",
    )
    if hidden:
        st.caption(
            f"Not interested in {len(hidden)} artist(s): " + ", ".join(map(md, hidden.values()))
        )
        st.button("Show them again", on_click=unhide_all, key="unhide")
    with st.expander("Save / load profile", icon=":material/save:"):
        st.caption(
            "Save your ratings to come back to them later (or use them from the HTTP API). "
            "To update a saved profile, enter its id and owner token and save again."
        )
        st.text_input("Display name (optional)", key="profile_name", max_chars=100)
        st.text_input("Profile id", key="profile_id", placeholder="empty = a new profile")
        st.text_input(
            "Owner token",
            key="profile_token",
            type="password",
            help="Shown when a profile is first saved; needed to update it, not to load it.",
        )
        c_save, c_load = st.columns(2)
        c_save.button("Save", key="profile_save", on_click=save_profile, icon=":material/save:")
        c_load.button("Load", key="profile_load", on_click=load_profile, icon=":material/upload:")
        kind, text = ss.pop("profile_msg", (None, ""))
        if kind == "error":
            st.error(text)
        elif kind == "success":
            st.success(text)
            if ss.get("profile_token"):
                st.caption("Profile id and owner token — keep the token to update this profile:")
                st.code(ss["profile_id"], language=None)
                st.code(ss["profile_token"], language=None)

st.title(":material/headphones: Get recommendations")
st.caption(
    "Add artists you listen to, say how much, and the recommendations update as you go. "
    "Your ratings stay in this browser tab unless you save them as a profile (sidebar)."
)

left, right = st.columns([2, 3], gap="large")

# ----------------------------------------------------------------------------- search & ratings
with left:
    st.subheader("1 · Find artists you know")
    query = st.text_input(
        "Search the catalogue",
        key="search",
        max_chars=MAX_QUERY_CHARS,
        placeholder="Type part of a name (e.g. radiohead, björk) and press Enter",
        help="Ignores case and accents; the most listened artists come first.",
    )
    if query.strip():
        try:
            hits = svc.search_artists(query, limit=SEARCH_LIMIT)
        except InvalidRequestError as exc:
            st.error(str(exc))
            hits = []
        else:
            if hits:
                st.caption(f"Artists matching “{md(query.strip())}” — click to add:")
                for hit in hits:
                    added = hit.id in picked
                    st.button(
                        f"{md(hit.name)} · {hit.listeners:,} listener{'s' if hit.listeners != 1 else ''}",
                        key=f"add_{hit.id}",
                        on_click=add_artist,
                        args=(hit.id, hit.name),
                        disabled=added,
                        icon=":material/check:" if added else ":material/add:",
                        width="stretch",
                    )
            else:
                st.warning(f"No artist matches “{md(query.strip())}”.")
                suggestions = svc.suggest_names(query)
                if suggestions:
                    st.caption("Did you mean:")
                    for name in suggestions:
                        st.button(
                            md(name),
                            icon=":material/add:",
                            key=f"suggest_{name}",
                            on_click=add_by_name,
                            args=(name,),
                        )

    history_panel(svc, add_artist, remove_artist)

    st.subheader("2 · Rate them")
    if not picked:
        st.caption("Artists you add appear here, each with a 1-5 listening level.")
    else:
        st.caption(f"Levels: {SCALE_LEGEND}")
        for artist_id, name in list(picked.items()):
            c_level, c_remove = st.columns([6, 1], vertical_alignment="bottom")
            with c_level:
                st.select_slider(
                    f"**{md(name)}**",
                    options=LEVELS,
                    format_func=level_label,
                    key=_level_key(artist_id),
                    persist_state="session",
                )
            with c_remove:
                st.button(
                    "",
                    icon=":material/close:",
                    key=f"remove_{artist_id}",
                    on_click=remove_artist,
                    args=(artist_id,),
                    help=f"Remove {name}",
                )
        st.button("Clear all", on_click=clear_artists, key="clear", type="tertiary")

# ----------------------------------------------------------------------------- recommendations
with right:
    ratings = {artist_id: int(ss.get(_level_key(artist_id), DEFAULT_LEVEL)) for artist_id in picked}
    model = get_model(svc, model_name)
    if model is None:
        st.stop()
    started = time.perf_counter()
    try:
        recs = svc.recommend_for_ratings(
            ratings,
            k=k,
            exclude=list(hidden) + history_exclusions(),
            model=model_name,
            novelty=novelty,
        )
    except (InvalidRequestError, UnknownArtistError) as exc:
        st.error(f"Could not compute recommendations: {exc}")
        st.stop()
    elapsed_ms = (time.perf_counter() - started) * 1000

    if ratings:
        st.subheader("3 · Recommended for you")
        rated = [f"{md(picked[a])} (level {lv})" for a, lv in ratings.items()]
        based_on = (
            (", ".join(rated[:-1]) + " and " + rated[-1] if len(rated) > 1 else rated[0])
            if len(rated) <= 3
            else f"{len(rated)} rated artists"
        )
        st.caption(
            f"{len(recs)} artists for {based_on}, computed in {elapsed_ms:.0f} ms. "
            "Artists you rated are never included."
        )
        action = ("Not interested", ":material/block:", "hide", hide_artist)
    else:
        st.subheader("Popular artists to start from")
        st.info(
            "Search for an artist on the left and add a few you like: personal recommendations "
            "appear here and update live. Or click “I listen to this” on a popular artist below."
        )
        action = ("I listen to this", ":material/add:", "quickadd", add_artist)

    if recs:
        st.download_button(
            "Download as CSV",
            recommendations_frame(recs).to_csv(index=False).encode("utf-8"),
            file_name="artistrec-recommendations.csv",
            mime="text/csv",
            key="download",
            on_click="ignore",
        )
        card_grid(recs, columns=3, action=action)
    else:
        st.warning("No artist left to recommend with these settings.")
