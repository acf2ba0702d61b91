"""Unit tests of artistrec.explore (the web app's aggregates) on the synthetic data set."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from artistrec import explore
from artistrec.data import Dataset


def test_tag_frequency_counts_and_order(synthetic_ds: Dataset) -> None:
    freq = explore.tag_frequency(synthetic_ds)
    counts = synthetic_ds.tag_assignments["tag_index"].value_counts()
    assert len(freq) == counts.size
    assert freq["assignments"].sum() == len(synthetic_ds.tag_assignments)
    assert freq["assignments"].is_monotonic_decreasing
    assert list(freq["rank"]) == list(range(1, len(freq) + 1))
    top = counts.index[0]
    assert freq["tag"].iloc[0] == synthetic_ds.tag_names[top]
    assert freq["assignments"].iloc[0] == counts.iloc[0]
    assert explore.top_tags(synthetic_ds, 5)["tag"].tolist() == freq["tag"].head(5).tolist()


def test_user_activity_and_top_users(synthetic_ds: Dataset) -> None:
    ua = explore.user_activity(synthetic_ds)
    x = synthetic_ds.interactions.toarray()
    assert ua["plays"].tolist() == x.sum(axis=1).astype(np.int64).tolist()
    assert ua["artists"].tolist() == (x > 0).sum(axis=1).tolist()
    assert ua["friends"].sum() == synthetic_ds.friends.nnz
    top = explore.top_users(synthetic_ds, 7)
    assert len(top) == 7 and top["plays"].is_monotonic_decreasing
    assert top["plays"].iloc[0] == ua["plays"].max()


def test_artist_popularity_and_top_artists(synthetic_ds: Dataset) -> None:
    pop = explore.artist_popularity(synthetic_ds)
    x = synthetic_ds.interactions.toarray()
    assert len(pop) == synthetic_ds.n_artists
    assert pop["plays"].is_monotonic_decreasing
    by_id = pop.set_index("artist_id")
    a = 3
    assert by_id.loc[synthetic_ds.artist_ids[a], "plays"] == int(x[:, a].sum())
    assert by_id.loc[synthetic_ds.artist_ids[a], "listeners"] == int((x[:, a] > 0).sum())
    top = explore.top_artists(synthetic_ds, 5, by="listeners")
    assert top["listeners"].tolist() == sorted((x > 0).sum(axis=0), reverse=True)[:5]
    with pytest.raises(ValueError, match="by must be"):
        explore.top_artists(synthetic_ds, by="fame")


def test_dataset_stats(synthetic_ds: Dataset) -> None:
    stats = explore.dataset_stats(synthetic_ds)
    assert stats["users"] == synthetic_ds.n_users
    assert stats["total_plays"] == pytest.approx(float(synthetic_ds.interactions.sum()))
    assert stats["density"] == pytest.approx(
        synthetic_ds.interactions.nnz / (synthetic_ds.n_users * synthetic_ds.n_artists)
    )
    assert 0 <= stats["share_artists_one_listener"] <= 1


def test_histogram_linear_and_log() -> None:
    values = np.array([1, 2, 3, 10, 100, 1000, 0, np.nan])
    lin = explore.histogram(values, bins=4)
    assert lin["count"].sum() == 7  # NaN dropped, 0 kept
    log = explore.histogram(values, bins=3, log=True)
    assert log["count"].sum() == 6  # 0 dropped on a log axis
    assert np.allclose(np.diff(np.log10(log["start"])), 1.0)
    assert explore.histogram(np.array([]), bins=3).empty


def test_item_embeddings_asks_the_model(synthetic_ds: Dataset) -> None:
    emb = np.random.default_rng(0).normal(size=(synthetic_ds.n_artists, 4))
    got = explore.item_embeddings(SimpleNamespace(item_factors_=emb))
    assert got.dtype == np.float32 and np.allclose(got, emb)
    assert np.allclose(explore.item_embeddings(SimpleNamespace(item_embeddings_=emb)), emb)
    # a model's own item_embeddings() wins over its raw factors (e.g. BPR's bias column)
    model = SimpleNamespace(item_embeddings=lambda: emb[:, :2], item_factors_=emb)
    assert explore.item_embeddings(model).shape == (synthetic_ds.n_artists, 2)
    # names no model has are not guessed; 1-D arrays are no embedding
    assert explore.item_embeddings(SimpleNamespace(V_=emb, item_vectors_=emb)) is None
    assert explore.item_embeddings(SimpleNamespace(item_factors_=np.ones(3))) is None


@pytest.mark.parametrize("name", ["als", "bpr", "seed-mf", "set-autoencoder"])
def test_factor_models_have_an_embedding_for_every_artist(name: str, synthetic_ds: Dataset) -> None:
    from artistrec import create_model

    fast = {
        "als": {"iterations": 2},
        "bpr": {"iterations": 2},
        "seed-mf": {"iterations": 3},
        "set-autoencoder": {"iterations": 1},
    }
    model = create_model(name, **fast.get(name, {})).fit(synthetic_ds)
    emb = explore.item_embeddings(model)
    assert emb is not None and emb.shape[0] == synthetic_ds.n_artists


def test_popularity_has_no_embedding(synthetic_ds: Dataset) -> None:
    from artistrec import create_model

    assert explore.item_embeddings(create_model("popularity").fit(synthetic_ds)) is None


def test_embedding_norms(synthetic_ds: Dataset) -> None:
    emb = np.random.default_rng(0).normal(size=(synthetic_ds.n_artists, 4)).astype(np.float32)
    norms = explore.embedding_norms(synthetic_ds, emb)
    listened = synthetic_ds.artist_listeners() > 0
    assert len(norms) == int(listened.sum())
    assert np.allclose(norms["norm"], np.linalg.norm(emb[listened], axis=1))
    # norms that grow with listeners correlate perfectly by rank
    scaled = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    scaled *= (synthetic_ds.artist_listeners() + 1)[:, None]
    rho = explore.norm_listener_correlation(explore.embedding_norms(synthetic_ds, scaled))
    assert rho > 0.99  # float32 rounding can split ties
    with pytest.raises(ValueError, match="shape"):
        explore.embedding_norms(synthetic_ds, emb[:-1])


def test_embedding_map_is_deterministic(synthetic_ds: Dataset) -> None:
    emb = np.random.default_rng(1).normal(size=(synthetic_ds.n_artists, 6)).astype(np.float32)
    a = explore.embedding_map(synthetic_ds, emb, n=60, seed=0)
    b = explore.embedding_map(synthetic_ds, emb, n=60, seed=0)
    assert list(a.columns) == ["x", "y", "name", "listeners", "genre"]
    assert len(a) == 60 and a["listeners"].is_monotonic_decreasing
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="at least 5"):
        explore.embedding_map(synthetic_ds, emb, n=2)


def test_embedding_map_is_kept_beside_the_artifact(
    synthetic_ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from artistrec.explore import embeddings

    emb = np.random.default_rng(2).normal(size=(synthetic_ds.n_artists, 6)).astype(np.float32)
    artifact = tmp_path / "als-abc.npz"
    artifact.write_bytes(b"stands in for a model artifact")
    assert not explore.has_cached_map(synthetic_ds, artifact, n=40)
    first = explore.cached_embedding_map(synthetic_ds, emb, artifact, n=40)
    assert explore.map_cache_path(artifact, 40).is_file()
    assert explore.has_cached_map(synthetic_ds, artifact, n=40)
    pd.testing.assert_frame_equal(first, explore.embedding_map(synthetic_ds, emb, n=40))

    def no_tsne(*args: object, **kw: object) -> None:
        raise AssertionError("t-SNE ran although the layout was kept")

    monkeypatch.setattr(embeddings, "embedding_map", no_tsne)
    pd.testing.assert_frame_equal(
        first, explore.cached_embedding_map(synthetic_ds, emb, artifact, n=40)
    )
    # another n is another layout; a retrained artifact (new file) invalidates the kept one
    assert not explore.has_cached_map(synthetic_ds, artifact, n=50)
    stat = artifact.stat()
    os.utime(artifact, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert not explore.has_cached_map(synthetic_ds, artifact, n=40)
    with pytest.raises(AssertionError, match="t-SNE ran"):
        explore.cached_embedding_map(synthetic_ds, emb, artifact, n=40)
    # without an artifact file nothing is kept, the map is still computed
    monkeypatch.undo()
    assert len(explore.cached_embedding_map(synthetic_ds, emb, None, n=40)) == 40


def test_artist_genre_uses_common_tags(synthetic_ds: Dataset) -> None:
    artists = np.arange(synthetic_ds.n_artists)
    genres = explore.artist_genre(synthetic_ds, artists, keep=3)
    common = set(explore.tag_frequency(synthetic_ds)["tag"].head(3))
    assert set(genres) <= common | {"other", "untagged"}
    untagged = np.diff(synthetic_ds.artist_tags.indptr) == 0
    assert (genres[untagged] == "untagged").all()


def test_training_curves() -> None:
    model = SimpleNamespace(train_loss_=np.array([3.0, 2.0, 1.0]), test_loss_=np.array([]))
    curves = explore.training_curves(model)
    assert curves["split"].unique().tolist() == ["train"]
    assert curves["epoch"].tolist() == [1, 2, 3]
    assert explore.training_curves(SimpleNamespace()) is None


def test_seed_mf_variant_curves(synthetic_ds: Dataset) -> None:
    curves = explore.seed_mf_variant_curves(synthetic_ds, holdout=0.2, epochs=20)
    assert set(curves["variant"]) == {"plain", "gravity"}
    assert set(curves["split"]) == {"train", "held-out"}
    assert len(curves) == 2 * 2 * 20
    plain = curves[(curves["variant"] == "plain") & (curves["split"] == "train")]["mse"]
    assert plain.iloc[-1] < plain.iloc[0]  # training lowers the training error
    with pytest.raises(ValueError, match="holdout"):
        explore.seed_mf_variant_curves(synthetic_ds, holdout=0.0)


def test_benchmark_summaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def write(folder: str, rows: dict) -> None:
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(tmp_path / folder / "new-users_summary.csv", index=False)

    write(
        "results",
        {
            "model": ["a", "b", "a"],
            "n_revealed": [3, 3, 5],
            "ndcg_mean": [0.1, 0.2, 0.3],
            "ndcg_std": [0.01, 0.02, 0.03],
        },
    )
    # a later run of one more model: merged (its duplicate of ("a", 3) is dropped)
    write("results-extra", {"model": ["a", "c"], "n_revealed": [3, 3], "ndcg_mean": [0.9, 0.4]})
    # a variant of the protocol (other users): its own table
    write("results/sampled", {"model": ["d"], "n_revealed": [3], "ndcg_mean": [0.5]})
    # another script's table under the same file name (no *_mean columns) is not a summary
    write("results-compare", {"model": ["z"], "n_revealed": [3], "ndcg": [0.99]})
    (tmp_path / "results" / "broken_summary.csv").write_text("")
    monkeypatch.setenv("ARTISTREC_RESULTS_DIR", str(tmp_path))
    assert explore.benchmark_dirs() == [tmp_path]
    found = explore.load_benchmark_summaries()
    assert sorted(found) == ["new-users", "new-users (sampled)"]
    summary = found["new-users"]
    assert explore.summary_metrics(summary) == ["ndcg"]
    long = explore.benchmark_metric(summary, "ndcg")
    assert long["model"].tolist() == ["a", "b", "a", "c"]
    assert long["mean"].tolist() == [0.1, 0.2, 0.3, 0.4]
    assert long["n_revealed"].tolist() == [3, 3, 5, 3]
    assert found["new-users (sampled)"]["model"].tolist() == ["d"]
    with pytest.raises(ValueError, match="not in the summary"):
        explore.benchmark_metric(summary, "recall")
    assert explore.load_benchmark_summaries([tmp_path / "missing"]) == {}
    # files directly in a searched folder keep the plain protocol name
    assert list(explore.load_benchmark_summaries([tmp_path / "results" / "sampled"])) == [
        "new-users"
    ]
    table = explore.benchmark_table(summary, digits=2)
    assert list(table.columns) == ["model", "n_revealed", "ndcg"]
    assert table["ndcg"].tolist() == ["0.10 ± 0.01", "0.20 ± 0.02", "0.30 ± 0.03", "0.40"]
    assert explore.protocol_order(
        ["zeta", "new-users (sampled)", "recbole", "new-users", "warm"]
    ) == [
        "warm",
        "new-users",
        "new-users (sampled)",
        "recbole",
        "zeta",
    ]


def test_benchmark_dirs_default_to_the_working_directory_and_its_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARTISTREC_RESULTS_DIR", raising=False)
    checkout = tmp_path / "repo"
    (checkout / "benchmarks" / "results").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("[project]\n")
    pd.DataFrame({"model": ["x"], "ndcg_mean": [0.5]}).to_csv(
        checkout / "benchmarks" / "results" / "warm_summary.csv", index=False
    )
    inside = checkout / "docs"
    inside.mkdir()
    monkeypatch.chdir(inside)
    assert explore.source_checkout() == checkout.resolve()
    assert explore.benchmark_dirs() == [
        inside / "results",
        checkout.resolve() / "results",
        checkout.resolve() / "benchmarks",
    ]
    assert explore.load_benchmark_summaries()["warm"]["model"].tolist() == ["x"]
    # outside a checkout only the working directory's results/ is searched
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert explore.source_checkout() is None
    assert explore.benchmark_dirs() == [outside / "results"]
    assert explore.load_benchmark_summaries() == {}
