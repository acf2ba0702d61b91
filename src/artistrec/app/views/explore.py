"""Explore the data: interactive Altair charts of tags, users, artists and friends."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from artistrec import explore
from artistrec.app.common import get_service

svc = get_service()
ds = svc.dataset


@st.cache_data(show_spinner=False)
def _aggregates(fingerprint: str) -> dict[str, object]:
    """All the page's tables, computed once per data set (the argument keys the cache)."""
    users = explore.user_activity(ds)
    artists = explore.artist_popularity(ds)
    return {
        "stats": explore.dataset_stats(ds),
        "tag_freq": explore.tag_frequency(ds),
        "users": users,
        "top_users": explore.top_users(ds, 20),
        "artists": artists,
        "plays_hist": explore.histogram(users["plays"].to_numpy(), bins=30, log=True),
        "friends_hist": explore.histogram(users["friends"].to_numpy(), bins=30),
    }


def bar(df: pd.DataFrame, x: str, y: str, title: str, x_title: str) -> alt.Chart:
    """A horizontal bar chart, largest first, with tooltips."""
    return (
        alt.Chart(df, title=title)
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:Q", title=x_title),
            y=alt.Y(f"{y}:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False)),
            tooltip=[alt.Tooltip(f"{y}:N"), alt.Tooltip(f"{x}:Q", format=",")],
        )
    )


def hist(df: pd.DataFrame, title: str, x_title: str, log: bool = False) -> alt.Chart:
    """Bars of true bin width from :func:`artistrec.explore.histogram`."""
    lo, hi = (float(df["start"].min()), float(df["end"].max())) if len(df) else (0.0, 1.0)
    scale = alt.Scale(type="log" if log else "linear", domain=[lo, hi], nice=False, zero=False)
    return (
        alt.Chart(df, title=title)
        .mark_bar()
        .encode(
            x=alt.X("start:Q", title=x_title, scale=scale),
            x2="end:Q",
            y=alt.Y("count:Q", title="users"),
            y2=alt.datum(0),
            tooltip=[
                alt.Tooltip("start:Q", format=",.0f", title="from"),
                alt.Tooltip("end:Q", format=",.0f", title="to"),
                alt.Tooltip("count:Q", title="users"),
            ],
        )
    )


agg = _aggregates(ds.fingerprint)
stats = agg["stats"]

st.title(":material/bar_chart: Explore the data")
st.caption(
    "The listening data behind the recommendations: who listens to what, how tags are used, "
    "and how people are connected. Hover over a chart for values; line charts zoom with the "
    "scroll wheel."
)

cols = st.columns(4)
cols[0].metric("Listeners (users)", f"{stats['users']:,}")
cols[1].metric("Artists", f"{stats['artists']:,}")
cols[2].metric("User-artist pairs", f"{stats['user_artist_pairs']:,}")
cols[3].metric("Total plays", f"{stats['total_plays']:,.0f}")
#: Shown instead of a number or chart a data set has no data for.
ABSENT = "not in this data set"
cols = st.columns(4)
cols[0].metric(
    "Tags", f"{stats['tags']:,}" if ds.has_tags else "—", help=None if ds.has_tags else ABSENT
)
cols[1].metric(
    "Tag assignments",
    f"{stats['tag_assignments']:,}" if ds.has_tags else "—",
    help=None if ds.has_tags else ABSENT,
)
cols[2].metric(
    "Friend relations",
    f"{stats['friend_relations']:,}" if ds.has_friends else "—",
    help=None if ds.has_friends else ABSENT,
)
cols[3].metric("Matrix density", f"{stats['density']:.3%}")
friends_note = (
    f" · median friends per user: {stats['median_friends_per_user']:.0f}" if ds.has_friends else ""
)
st.caption(
    f"Median artists per user: {stats['median_artists_per_user']:.0f} · median listeners per "
    f"artist: {stats['median_listeners_per_artist']:.0f} · artists with a single listener: "
    f"{stats['share_artists_one_listener']:.1%}{friends_note}"
)
if not (ds.has_tags and ds.has_friends):
    absent = [part for part, has in (("tags", ds.has_tags), ("friends", ds.has_friends)) if not has]
    st.info(
        f"This data set ({ds.format}) has no {' and no '.join(absent)}: the charts of "
        f"{' and '.join(absent)} are not available. The HetRec 2011 data set has both."
    )

tab_tags, tab_users, tab_artists, tab_friends = st.tabs(["Tags", "Users", "Artists", "Friends"])

with tab_tags:
    if not ds.has_tags:
        st.info("This data set has no tags, so there is nothing to chart here.")
    else:
        tag_freq: pd.DataFrame = agg["tag_freq"]
        c1, c2 = st.columns(2, gap="large")
        c1.altair_chart(
            bar(tag_freq.head(25), "assignments", "tag", "Top 25 tags", "assignments").properties(
                height=560
            ),
            width="stretch",
        )
        line = (
            alt.Chart(tag_freq)
            .mark_line(point=False)
            .encode(
                x=alt.X("rank:Q", title="tag rank"),
                tooltip=["rank:Q", "tag:N", alt.Tooltip("assignments:Q", format=",")],
            )
            .properties(height=210)
        )
        c2.altair_chart(
            line.encode(y=alt.Y("assignments:Q", title="assignments"))
            .properties(title="Tag frequency by rank (linear)")
            .interactive(),
            width="stretch",
        )
        c2.altair_chart(
            line.encode(
                x=alt.X("rank:Q", title="tag rank (log)", scale=alt.Scale(type="log")),
                y=alt.Y("assignments:Q", title="assignments (log)", scale=alt.Scale(type="log")),
            )
            .properties(title="Tag frequency by rank (log-log)")
            .interactive(),
            width="stretch",
        )
        c2.caption(
            f"{len(tag_freq):,} tags are used at least once. A few are used thousands of times, most "
            "only once or twice: the log-log curve is close to a straight line (a power law)."
        )

with tab_users:
    c1, c2 = st.columns(2)
    c1.altair_chart(
        bar(agg["top_users"], "plays", "user", "Top 20 users by plays", "plays"), width="stretch"
    )
    c2.altair_chart(
        hist(agg["plays_hist"], "Plays per user", "total plays (log scale)", log=True),
        width="stretch",
    )

with tab_artists:
    artists: pd.DataFrame = agg["artists"]
    by = st.radio(
        "Rank artists by", ["plays", "listeners"], horizontal=True, key="explore_artists_by"
    )
    top = artists.sort_values([by, "rank"], ascending=[False, True]).head(25)
    c1, c2 = st.columns(2)
    c1.altair_chart(bar(top, by, "name", f"Top 25 artists by {by}", by), width="stretch")
    c2.altair_chart(
        alt.Chart(artists, title="Plays per artist, in rank order (log-log)")
        .mark_line()
        .encode(
            x=alt.X("rank:Q", title="artist rank (log)", scale=alt.Scale(type="log")),
            y=alt.Y("plays:Q", title="plays (log)", scale=alt.Scale(type="log")),
            tooltip=["rank:Q", "name:N", alt.Tooltip("plays:Q", format=","), "listeners:Q"],
        )
        .interactive(),
        width="stretch",
    )

with tab_friends:
    if not ds.has_friends:
        st.info("This data set has no friend links, so there is nothing to chart here.")
    else:
        st.altair_chart(hist(agg["friends_hist"], "Friends per user", "friends"), width="stretch")
        st.caption(
            "Friend links are symmetric. Users without any friend: "
            f"{int((agg['users']['friends'] == 0).sum()):,}."
        )
