"""Entry script of the web app (``artistrec app`` runs it with ``streamlit run``)."""

from __future__ import annotations

import streamlit as st

from artistrec.app.common import PAGES_DIR, get_service

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
svc = get_service()
st.sidebar.caption(
    f"Data: {svc.dataset.n_artists:,} artists, {svc.dataset.n_users:,} listeners "
    f"(fingerprint {svc.dataset.fingerprint[:8]})"
)
page.run()
