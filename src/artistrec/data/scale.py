"""The product's ordinal 1-5 rating scale, derived from listen counts (vectorised).

0 = not listened, 1 = once, 2 = 2-1,000 plays, 3 = 1,001-10,000, 4 = 10,001-50,000, 5 = more.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Upper bound (inclusive) of listen counts for levels 1..4; level 5 is everything above.
LEVEL_UPPER_BOUNDS = np.array([1, 1_000, 10_000, 50_000], dtype=np.float64)

#: One representative listen count per level 0..5: the geometric midpoint of each band
#: (level 5 uses 100,000, twice its lower bound). ``to_levels(REPRESENTATIVE_COUNTS)`` is 0..5.
REPRESENTATIVE_COUNTS = np.array([0, 1, 45, 3_164, 22_362, 100_000], dtype=np.float32)

LEVEL_LABELS: dict[int, str] = {
    1: "once",
    2: "2-1,000 plays",
    3: "1,001-10,000 plays",
    4: "10,001-50,000 plays",
    5: "over 50,000 plays",
}

MIN_LEVEL, MAX_LEVEL = 0, 5


def to_levels(counts: npt.ArrayLike) -> np.ndarray:
    """Map listen counts to levels 0..5 (int8). Counts must be finite and >= 0."""
    arr = np.asarray(counts, dtype=np.float64)
    if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0):
        raise ValueError("listen counts must be finite and non-negative")
    levels = np.searchsorted(LEVEL_UPPER_BOUNDS, arr, side="left") + 1
    return np.where(arr > 0, levels, 0).astype(np.int8)  # np.where: scalars work too


def from_levels(levels: npt.ArrayLike) -> np.ndarray:
    """Map levels 0..5 to a representative listen count per level (float32)."""
    arr = np.asarray(levels)
    if arr.size and (not np.issubdtype(arr.dtype, np.integer) and not np.all(arr == np.round(arr))):
        raise ValueError("levels must be whole numbers 0..5")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < MIN_LEVEL or arr.max() > MAX_LEVEL):
        raise ValueError(
            f"levels must be in {MIN_LEVEL}..{MAX_LEVEL}, got {arr.min()}..{arr.max()}"
        )
    return REPRESENTATIVE_COUNTS[arr]


def check_level(level: object) -> int:
    """Validate one user-supplied level and return it as int (raises ValueError)."""
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)):
        raise ValueError(f"level must be an integer 0..5, got {level!r}")
    if not MIN_LEVEL <= int(level) <= MAX_LEVEL:
        raise ValueError(f"level must be in 0..5, got {level}")
    return int(level)
