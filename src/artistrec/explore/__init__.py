"""Aggregates behind the web app's "Explore the data" and "Models" pages (pandas/numpy only).

One module per job, all re-exported here (``from artistrec import explore``):

- :mod:`~artistrec.explore.data_stats` - data-set statistics, rankings, histograms, genres
- :mod:`~artistrec.explore.embeddings` - a model's artist embedding, its 2-D map and norms
- :mod:`~artistrec.explore.training` - seed-mf training curves
- :mod:`~artistrec.explore.benchmarks` - offline benchmark summaries from an explicit place
"""

from __future__ import annotations

from artistrec.explore.benchmarks import (
    ENV_RESULTS_DIR,
    benchmark_dirs,
    benchmark_metric,
    benchmark_table,
    load_benchmark_summaries,
    protocol_order,
    source_checkout,
    summary_metrics,
)
from artistrec.explore.data_stats import (
    artist_genre,
    artist_popularity,
    dataset_stats,
    histogram,
    tag_frequency,
    top_artists,
    top_tags,
    top_users,
    user_activity,
)
from artistrec.explore.embeddings import (
    embedding_map,
    embedding_norms,
    item_embeddings,
    norm_listener_correlation,
)
from artistrec.explore.training import seed_mf_variant_curves, training_curves

__all__ = [
    "ENV_RESULTS_DIR",
    "artist_genre",
    "artist_popularity",
    "benchmark_dirs",
    "benchmark_metric",
    "benchmark_table",
    "dataset_stats",
    "embedding_map",
    "embedding_norms",
    "histogram",
    "item_embeddings",
    "load_benchmark_summaries",
    "norm_listener_correlation",
    "protocol_order",
    "seed_mf_variant_curves",
    "source_checkout",
    "summary_metrics",
    "tag_frequency",
    "top_artists",
    "top_tags",
    "top_users",
    "training_curves",
    "user_activity",
]
