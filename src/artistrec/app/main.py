"""Entry script of the web app (``artistrec app`` runs it with ``streamlit run``)."""

from __future__ import annotations

import streamlit as st

from artistrec.app.common import PAGES_DIR, get_service
from artistrec.data import DataError
from artistrec.data.formats import TITLES as FORMAT_TITLES
from artistrec.service import InvalidRequestError
from artistrec.store.artifacts import ArtifactError

st.set_page_config(page_title="artistrec", page_icon=":material/headphones:", layout="wide")

page = st.navigation(
    [
        st.Page(
            PAGES_DIR / "recommend.py",
            title="Get recommendations",
            icon=":material/headphones:",
            default=True,
        ),
        st.Page(PAGES_DIR / "similar.py", title="Similar artists", icon=":material/hub:"),
        st.Page(PAGES_DIR / "explore.py", title="Explore the data", icon=":material/bar_chart:"),
        st.Page(PAGES_DIR / "models.py", title="Models", icon=":material/science:"),
    ]
)
try:
    svc = get_service()
except (DataError, ArtifactError, InvalidRequestError) as exc:
    st.error(f"The app could not load its data or model: {exc}")
    st.info(
        "Point LASTFM_DATA_DIR (or `artistrec app --data-dir`) at a data set folder - the "
        "HetRec 2011 Last.fm files, Last.fm-360K, or interactions.csv - or run `artistrec data "
        "download`, and check the model file given with --artifact."
    )
    st.stop()
st.sidebar.caption(
    f"Data: {FORMAT_TITLES.get(svc.dataset.format, svc.dataset.format)}, "
    f"{svc.dataset.n_artists:,} artists, "
    f"{svc.dataset.n_users:,} listeners "
    f"(fingerprint {svc.dataset.fingerprint[:8]})"
)
page.run()
