"""Discovery 1.0 on the real data (integration): ties broken by the model's own score (12.16)."""

from __future__ import annotations

import numpy as np
import pytest

from artistrec.data import Dataset
from artistrec.service import RecommenderService

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def test_full_discovery_orders_ties_by_the_model_score(real_ds: Dataset) -> None:
    svc = RecommenderService(real_ds)
    ratings = {svc.resolve_artist(n): lv for n, lv in [("Metallica", 5), ("Iron Maiden", 4)]}
    ratings[svc.resolve_artist("Slayer")] = 3
    recs = svc.recommend_for_ratings(ratings, k=30, novelty=1.0)
    scores = np.array([r.score for r in recs], dtype=np.float32)
    assert np.all(np.diff(scores) <= 0)
    groups = [np.flatnonzero(scores == s) for s in np.unique(scores)]
    tied = [g for g in groups if g.size > 1]
    assert tied, "no tie at discovery 1.0: the test would prove nothing"
    # the model's own scores of the same fold-in
    model = svc.model()
    rated = {svc.artist_index(a): lv for a, lv in ratings.items()}
    items, model_scores = model.recommend_new_user(rated, k=model.n_items)
    by_item = dict(zip(items.tolist(), model_scores.tolist(), strict=True))
    for group in tied:
        own = [by_item[recs[i].index] for i in group]
        assert own == sorted(own, reverse=True), [recs[i].name for i in group]
