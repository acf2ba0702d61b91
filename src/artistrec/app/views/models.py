"""Models: offline benchmark results, seed-mf training curves and maps of artist embeddings."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from artistrec import explore
from artistrec.app.common import get_model, get_service, model_label
from artistrec.models import available_models

svc = get_service()
ds = svc.dataset
#: Models tried first for the embedding map (factor models), when registered.
EMBEDDING_PREFERENCE = ("als", "bpr", "seed-mf")


@st.cache_data(show_spinner=False, ttl=60)
def _summaries(dirs: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """Benchmark summaries, re-read at most once a minute."""
    return explore.load_benchmark_summaries([Path(d) for d in dirs])


@st.cache_data(show_spinner=False, max_entries=2)
def _variant_curves(fingerprint: str) -> pd.DataFrame:
    """Loss curves of seed-mf's plain and gravity variants, trained once per data set."""
    return explore.seed_mf_variant_curves(ds, holdout=0.1)


@st.cache_data(show_spinner=False, max_entries=8)
def _embedding_map(fingerprint: str, model_name: str, artifact: str, n: int) -> pd.DataFrame:
    """t-SNE map, computed once per trained model (kept beside its artifact) and n."""
    emb = explore.item_embeddings(svc.model(model_name))
    return explore.cached_embedding_map(ds, emb, artifact, n=n, seed=0)


#: The benchmark table's columns: short labels and three decimals, so that every column fits
#: the page (the spread over runs is in the chart's error bars and under "All columns").
_MEAN_HELP = "mean over runs (the spread is in the chart and under All columns)"
TABLE_CONFIG = {
    "model": st.column_config.TextColumn("model", width=125),
    "n_revealed": st.column_config.NumberColumn(
        "N", width=36, help="Artists revealed per new user."
    ),
    **{
        metric: st.column_config.NumberColumn(label, format="%.3f", help=f"{what}: {_MEAN_HELP}")
        for metric, label, what in [
            ("ndcg", "NDCG", "NDCG@K"),
            ("recall", "recall", "recall@K"),
            ("precision", "prec.", "precision@K"),
            ("map", "MAP", "MAP@K"),
            ("hit_rate", "hits", "hit rate@K (a held-out artist in the top K)"),
            ("coverage", "cover.", "catalogue coverage of the top-K lists"),
            ("novelty", "novelty", "novelty (mean self-information of recommended artists)"),
        ]
    },
    "train_s": st.column_config.NumberColumn(
        "fit s", format="%.1f", help="Seconds to fit, mean over runs."
    ),
    "latency_median_ms": st.column_config.NumberColumn(
        "ms", format="%.2f", help="Median time of one new-user request, in milliseconds."
    ),
}

#: Distinct colours for the named genres; "other" and "untagged" stay grey.
GENRE_COLOURS = [
    "#4c78a8",
    "#f58518",
    "#e45756",
    "#72b7b2",
    "#54a24b",
    "#eeca3b",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#17becf",
    "#1f3a93",
    "#8c564b",
]
GREYS = {"other": "#c8c8c8", "untagged": "#e6e6e6"}


def _genre_scale(genres: pd.Series) -> alt.Scale:
    named = sorted(g for g in genres.unique() if g not in GREYS)
    grey = [g for g in GREYS if g in set(genres)]
    colours = [GENRE_COLOURS[i % len(GENRE_COLOURS)] for i in range(len(named))]
    return alt.Scale(domain=named + grey, range=colours + [GREYS[g] for g in grey])


st.title(":material/science: Models")
st.caption(
    "How the recommenders compare offline, how the original project's model trains, and what "
    "the factor models have learned about artists."
)

# ----------------------------------------------------------------------------- benchmarks
st.header("Benchmarks")
summaries = _summaries(tuple(str(d) for d in explore.benchmark_dirs()))
if not summaries:
    st.info(
        "No benchmark results found. Run `artistrec evaluate --protocol warm` and "
        "`artistrec evaluate --protocol new-users` (they write `results/<protocol>_summary.csv`; "
        "set `ARTISTREC_RESULTS_DIR` to read another folder). docs/BENCHMARKS.md explains the "
        "protocols."
    )
else:
    protocols = explore.protocol_order(list(summaries))
    tabs = st.tabs(protocols)
    for tab, protocol in zip(tabs, protocols, strict=True):
        summary = summaries[protocol]
        with tab:
            metrics = explore.summary_metrics(summary)
            default = metrics.index("ndcg") if "ndcg" in metrics else 0
            metric = st.selectbox("Metric", metrics, index=default, key=f"bench_metric_{protocol}")
            long = explore.benchmark_metric(summary, metric)
            k = int(summary["k"].iloc[0]) if "k" in summary else None
            title = f"{metric} (K = {k}), mean ± std over runs" if k else metric
            has_n = bool(long["n_revealed"].notna().any())
            if has_n:
                long["n_revealed"] = long["n_revealed"].astype(int)
            tooltip = [
                "model:N",
                alt.Tooltip("mean:Q", format=".4f"),
                alt.Tooltip("std:Q", format=".4f"),
                *(["n_revealed:O"] if has_n else []),
            ]
            base = alt.Chart(long).encode(
                y=alt.Y("model:N", sort="-x", title=None), tooltip=tooltip
            )
            if has_n:
                base = base.encode(
                    yOffset=alt.YOffset("n_revealed:O"),
                    color=alt.Color("n_revealed:O", title="artists revealed"),
                )
            bars = base.mark_bar().encode(x=alt.X("mean:Q", title=title))
            errs = (
                base.mark_errorbar()
                .encode(x=alt.X("lo:Q", title=title), x2="hi:Q")
                .transform_calculate(lo="datum.mean - datum.std", hi="datum.mean + datum.std")
            )
            height = 28 * len(long) + 40
            st.altair_chart((bars + errs).properties(height=height), width="stretch")
            st.dataframe(
                explore.benchmark_means(summary),
                hide_index=True,
                width="stretch",
                column_config=TABLE_CONFIG,
            )
            with st.expander("All columns"):
                st.dataframe(summary.drop(columns=["source"]), hide_index=True, width="stretch")
            st.caption("From " + ", ".join(dict.fromkeys(summary["source"])))

# ----------------------------------------------------------------------------- training curves
st.header("Training curves of seed-mf")
st.caption(
    "seed-mf re-implements the original student project's matrix factorisation: mean squared "
    "error on the observed 1-5 levels, fitted by gradient descent. It serves the original's "
    "regularised variant (L2 on the factors + gravity, a pull of every unobserved prediction "
    "towards 0); the plain variant (l2=0, gravity=0) fits the observed levels only and ranks "
    "close to at random."
)


def _curve_chart(curves: pd.DataFrame, color: str) -> alt.Chart:
    return (
        alt.Chart(curves)
        .mark_line()
        .encode(
            x=alt.X("epoch:Q"),
            y=alt.Y("mse:Q", title="mean squared error (levels, log)", scale=alt.Scale(type="log")),
            color=alt.Color(
                f"{color}:N", title=None, scale=alt.Scale(range=["#4c78a8", "#f58518", "#54a24b"])
            ),
            strokeDash=alt.StrokeDash("split:N", title=None),
            tooltip=[
                "epoch:Q",
                f"{color}:N",
                "split:N",
                alt.Tooltip("mse:Q", format=".4f"),
            ],
        )
        .properties(height=320)
        .interactive(bind_y=False)
    )


if "seed-mf" not in available_models():
    st.info("The seed-mf model is not registered in this installation.")
else:
    seed_mf = get_model(svc, "seed-mf")
    curves = explore.training_curves(seed_mf) if seed_mf is not None else None
    if curves is None:
        st.info("The served seed-mf model stores no loss curves.")
    elif (curves["split"] == "held-out").any():
        st.altair_chart(
            _curve_chart(curves.assign(model="served seed-mf"), "model"), width="stretch"
        )
        st.caption("Held-out = a seeded random share of the observed levels kept out of training.")
    else:
        train = curves[curves["split"] == "train"]["mse"]
        st.caption(
            f"The served seed-mf is trained on all observed levels for {len(train)} epochs "
            f"(training error {train.iloc[0]:.2f} → {train.iloc[-1]:.3f}), so it has no "
            "held-out curve. Compare the two variants below to see how well they generalise."
        )
    st.markdown("**The original project's two variants, with 10% of the levels held out**")
    if st.button("Train and compare (about 10 s)", key="train_variants") or st.session_state.get(
        "variants_shown"
    ):
        st.session_state["variants_shown"] = True
        with st.spinner("Training seed-mf twice (plain and gravity)…"):
            variants = _variant_curves(ds.fingerprint)
        st.altair_chart(_curve_chart(variants, "variant"), width="stretch")
        last = variants.groupby(["variant", "split"])["mse"].agg(["min", "last"]).reset_index()
        held = last[last["split"] == "held-out"].set_index("variant")
        st.caption(
            "Held-out error at the last epoch: "
            + ", ".join(
                f"{v} {row['last']:.3f} (best {row['min']:.3f})" for v, row in held.iterrows()
            )
            + ". The gap between a variant's training and held-out curves is its over-fitting."
        )

# ----------------------------------------------------------------------------- embeddings
st.header("Artist embeddings")
candidates = [m for m in available_models() if m not in ("default", "popularity")]
if not candidates:
    st.info("No factor model is registered.")
    st.stop()
preferred = next((m for m in EMBEDDING_PREFERENCE if m in candidates), candidates[0])
c1, c2 = st.columns(2)
emb_model = c1.selectbox(
    "Model",
    candidates,
    index=candidates.index(preferred),
    format_func=model_label,
    key="emb_model",
)
n_max = int(ds.n_artists)
n_map = c2.slider(
    "Artists on the map (most listened)",
    min_value=min(50, n_max),
    max_value=min(3000, n_max),
    value=min(1500, n_max),
    step=50 if n_max >= 100 else 1,
    key="emb_n",
)
model = get_model(svc, emb_model)
emb = explore.item_embeddings(model) if model is not None else None
if emb is None:
    st.info(f"Model “{emb_model}” has no item embedding to draw (it is not a factor model).")
    st.stop()

st.subheader("2-D map (t-SNE)")
st.caption(
    "Each point is an artist; nearby points have similar embeddings. Colour = the artist's most "
    "assigned tag among the ten most used tags. Hover for names, scroll to zoom."
    if ds.has_tags
    else "Each point is an artist; nearby points have similar embeddings. This data set has no "
    "tags, so the points are not coloured by genre. Hover for names, scroll to zoom."
)
map_key = f"map_{emb_model}_{n_map}"
artifact = svc.model_info(emb_model)["artifact"]
drawn = explore.has_cached_map(ds, artifact, n_map) or st.session_state.get(map_key)
if st.button("Draw the map", key="draw_map", type="primary", disabled=bool(drawn)) or drawn:
    st.session_state[map_key] = True
    with st.spinner(f"Running t-SNE on {n_map:,} artists (once per trained model)…"):
        points = _embedding_map(ds.fingerprint, emb_model, artifact, n_map)
    st.altair_chart(
        alt.Chart(points)
        .mark_circle(size=28, opacity=0.75)
        .encode(
            x=alt.X("x:Q", axis=None),
            y=alt.Y("y:Q", axis=None),
            color=alt.Color("genre:N", title="top tag", scale=_genre_scale(points["genre"])),
            tooltip=["name:N", alt.Tooltip("listeners:Q", format=","), "genre:N"],
        )
        .properties(height=560)
        .interactive(),
        width="stretch",
    )
else:
    st.caption(
        "t-SNE takes a few seconds, so it runs on demand; the map is then kept with the model "
        "and shown at once from then on."
    )

st.subheader("Embedding norm vs number of listeners")
norms = explore.embedding_norms(ds, emb)
st.altair_chart(
    alt.Chart(norms)
    .mark_circle(size=12, opacity=0.35)
    .encode(
        x=alt.X("listeners:Q", title="listeners (log)", scale=alt.Scale(type="log")),
        y=alt.Y("norm:Q", title="L2 norm of the artist's embedding"),
        tooltip=[
            "name:N",
            alt.Tooltip("listeners:Q", format=","),
            alt.Tooltip("norm:Q", format=".3f"),
        ],
    )
    .interactive(),
    width="stretch",
)
rho = explore.norm_listener_correlation(norms)
st.caption(
    f"Spearman correlation between norm and listeners: {rho:.2f}. When popular artists get "
    "longer vectors, dot-product similarity favours them; the Similar artists page also offers "
    "cosine, which ignores length."
)
