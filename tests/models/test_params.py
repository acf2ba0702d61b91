"""Parameter declarations: what a ``Param`` accepts, in words and in checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from artistrec.models.params import Param


@pytest.mark.parametrize(
    ("spec", "words", "good", "bad"),
    [
        (Param(1, "", int, ge=1), "an integer >= 1", [1, 7, np.int64(3)], [0, 2.5, True, "3"]),
        (Param(1.0, "", float, gt=0), "a number > 0", [0.1, 2, np.float32(3)], [0, -1, math.nan]),
        (Param(0.5, "", float, ge=0, lt=1), "a number in [0, 1)", [0, 0.99], [1, -0.1, math.inf]),
        (Param(0.5, "", float, gt=0, le=2.5), "a number in (0, 2.5]", [2.5], [0, 2.6]),
        (Param("a", "", str, choices=("a", "b")), "one of 'a', 'b'", ["a", "b"], ["c", 1, None]),
        (Param(True, "", bool), "a boolean", [True, np.bool_(False)], [1, "yes"]),
    ],
)
def test_accepts_and_checks(spec: Param, words: str, good: list, bad: list) -> None:
    assert spec.accepts() == words
    for value in good:
        assert spec.check(value), value
    for value in bad:
        assert not spec.check(value), value
