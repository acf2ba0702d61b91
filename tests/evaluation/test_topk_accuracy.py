"""Top-k categorical accuracy as TFRS's FactorizedTopK computes it (evaluation/topk_accuracy.py)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from artistrec.evaluation.topk_accuracy import factorized_top_k, higher_counts


def test_rank_counts_strictly_higher_scores_and_ties_favour_the_target() -> None:
    scores = np.array([[0.9, 0.5, 0.5, 0.1, 0.7], [0.0, 1.0, 2.0, 3.0, 4.0]])
    pos = sp.csr_matrix(np.array([[0, 1, 0, 1, 0], [1, 0, 0, 0, 1]]))
    # user 0: artist 1 (0.5) has 0.9 and 0.7 above (its tie 0.5 does not count): 2; artist 3: 4
    # user 1: artist 0 has 4 above; artist 4 none
    np.testing.assert_array_equal(higher_counts(scores, pos), [2, 4, 4, 0])
    acc = factorized_top_k(scores, pos, ks=(1, 3, 5))
    assert acc == {"top_k_acc@1": 0.25, "top_k_acc@3": 0.5, "top_k_acc@5": 1.0, "pairs": 4.0}


def test_filtered_variant_leaves_known_artists_out_of_the_corpus() -> None:
    scores = np.array([[0.9, 0.5, 0.8, 0.1]])
    pos = sp.csr_matrix(np.array([[0, 1, 0, 0]]))
    known = sp.csr_matrix(np.array([[1, 0, 0, 0]]))  # the user's training artist scores highest
    assert higher_counts(scores, pos).tolist() == [2]
    assert higher_counts(scores, pos, known).tolist() == [1]
    assert factorized_top_k(scores, pos, known, ks=(2,))["top_k_acc@2"] == 1.0
    assert factorized_top_k(scores, pos, ks=(2,))["top_k_acc@2"] == 0.0


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        higher_counts(np.zeros((2, 3)), sp.csr_matrix((2, 4)))
