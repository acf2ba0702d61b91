"""Pieces shared by the app's pages: the cached services, the model choice and artist cards.

UI only: every number shown comes from :mod:`artistrec.service` or :mod:`artistrec.explore`.
Heavy objects are created once per process (``st.cache_resource``) and never mutated.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from artistrec.data.scale import LEVEL_LABELS
from artistrec.models import available_models
from artistrec.models.base import Recommender
from artistrec.models.registry import DEFAULT_MODEL
from artistrec.service import ProfileService, Recommendation, RecommenderService
from artistrec.service.profiles import open_store, profile_db_path
from artistrec.store.artifacts import ArtifactError

#: Environment variables the app reads (``artistrec app`` sets them from its options).
ENV_MODEL_PATH = "ARTISTREC_MODEL_PATH"  # artifact of the default model
ENV_MODEL = "ARTISTREC_APP_MODEL"  # model preselected in the model choice
ENV_DATA_DIR = "LASTFM_DATA_DIR"

#: The page scripts. Not "pages/": Streamlit would add its automatic page list for that name.
PAGES_DIR = Path(__file__).with_name("views")

#: Level preselected for a newly added artist: a fan's typical play count.
DEFAULT_LEVEL = 3
LEVELS = list(range(1, 6))

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def md(text: object) -> str:
    """``text`` escaped for st.markdown (names like ``Ke$ha`` or ``*NSYNC`` stay literal)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def level_label(level: int) -> str:
    """``"3 · 1,001-10,000 plays"``: a level with its meaning."""
    return f"{level} · {LEVEL_LABELS[int(level)]}"


SCALE_LEGEND = " · ".join(f"**{lv}** = {LEVEL_LABELS[lv]}" for lv in LEVELS)


# ----------------------------------------------------------------------------- service & models
@st.cache_resource(show_spinner="Loading the data set and the model…")
def _service(data_dir: str | None, model_path: str | None, model: str) -> RecommenderService:
    return RecommenderService.load(
        data_dir=data_dir, model_path=Path(model_path) if model_path else None, model=model
    )


@st.cache_resource(show_spinner=False)
def _profiles(db: str, fingerprint: str) -> ProfileService:
    return ProfileService(open_store(db), get_service().catalogue)


def get_profiles() -> ProfileService:
    """The process-wide profile service over ``$ARTISTREC_DB`` (else the API's database)."""
    return _profiles(str(profile_db_path()), get_service().dataset.fingerprint)


def initial_model() -> str:
    """The model preselected in the model choice ($ARTISTREC_APP_MODEL, else ``default``)."""
    name = os.environ.get(ENV_MODEL) or "default"
    return name if name in available_models() else "default"


def get_service() -> RecommenderService:
    """The process-wide service (data set + models), keyed by the environment it was built from."""
    return _service(
        os.environ.get(ENV_DATA_DIR) or None,
        os.environ.get(ENV_MODEL_PATH) or None,
        initial_model(),
    )


def warm_up() -> None:
    """Fill the process-wide cache before the first visit (``artistrec app`` calls it at start).

    Errors are left for the first page to show, where the person can read them.
    """
    import logging

    # outside a script run Streamlit warns once per cached call; this call is deliberate
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(
        logging.ERROR
    )
    try:
        get_service()
    except Exception:  # reported again, visibly, by the first page that needs it
        pass


def model_label(name: str) -> str:
    """``"default (als)"`` for the default model (whatever artifact serves it), else the name."""
    if name != "default":
        return name
    svc = get_service()
    concrete = svc.model("default").name if svc.is_loaded("default") else DEFAULT_MODEL
    return f"default ({concrete})"


def model_choice(key: str = "model", where: Any = None) -> str:
    """A model selectbox whose value survives page switches."""
    names = available_models()
    target = where if where is not None else st
    return target.selectbox(
        "Model",
        names,
        index=names.index(initial_model()),
        format_func=model_label,
        key=key,
        persist_state="session",
        help="Which recommender answers. Models not trained yet are trained on first use.",
    )


def get_model(svc: RecommenderService, name: str) -> Recommender | None:
    """The fitted model ``name``, trained with a spinner on first use; None (and an error) on failure."""
    try:
        if svc.is_loaded(name):
            return svc.model(name)
        with st.spinner(f"Loading model “{name}” (it is trained the first time, please wait)…"):
            return svc.model(name)
    except (ArtifactError, ValueError) as exc:
        st.error(f"Model {name!r} is not available: {exc}")
        return None


# ----------------------------------------------------------------------------- cards
def card_markdown(rec: Recommendation, rank: int | None = None) -> str:
    """Name (linked to Last.fm) and top tags of one artist, as markdown."""
    name = md(rec.name)
    title = f"[{name}](<{rec.url}>)" if rec.url else name
    prefix = f"{rank}. " if rank is not None else ""
    tags = " ".join(f":gray-badge[{md(t)}]" for t in rec.tags) or ":gray-badge[no tags]"
    return f"**{prefix}{title}**  \n{tags}"


def card_grid(
    recs: Sequence[Recommendation],
    columns: int = 3,
    action: tuple[str, str, str, Callable[..., None]] | None = None,
    score_label: str = "score",
) -> None:
    """Recommendations as bordered cards, row by row.

    ``action`` = (label, icon, key prefix, callback) adds a button calling ``callback(id, name)``.
    """
    for start in range(0, len(recs), columns):
        cols = st.columns(columns)
        for offset, rec in enumerate(recs[start : start + columns]):
            with cols[offset], st.container(border=True):
                st.markdown(card_markdown(rec, start + offset + 1))
                st.caption(f"{md(rec.reason)} · {score_label} {rec.score:.3f}")
                if action is not None:
                    label, icon, prefix, callback = action
                    st.button(
                        label,
                        icon=icon,
                        key=f"{prefix}_{rec.artist_id}",
                        on_click=callback,
                        args=(rec.artist_id, rec.name),
                        type="tertiary",
                    )


def recommendations_frame(recs: Sequence[Recommendation]) -> pd.DataFrame:
    """Recommendations as a table (for the CSV download)."""
    return pd.DataFrame(
        {
            "rank": range(1, len(recs) + 1),
            "artist_id": [r.artist_id for r in recs],
            "name": [r.name for r in recs],
            "score": [round(r.score, 6) for r in recs],
            "tags": ["; ".join(r.tags) for r in recs],
            "reason": [r.reason for r in recs],
            "url": [r.url for r in recs],
        }
    )
