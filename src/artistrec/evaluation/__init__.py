"""Honest offline evaluation: leak-free splits, top-K metrics, a runner over models by name,
paired comparisons, validation-only tuning, and reports (tables, CSV/JSON, charts)."""

from artistrec.evaluation.metrics import ALL_METRICS, USER_METRICS, user_metrics
from artistrec.evaluation.runner import (
    PROTOCOLS,
    EvaluationResult,
    compare,
    evaluate,
    evaluate_detailed,
    paired_differences,
    paired_interval,
    tune,
)
from artistrec.evaluation.splits import (
    new_user_holdout,
    new_user_kfold,
    recbole_split,
    warm_split,
)

__all__ = [
    "ALL_METRICS",
    "PROTOCOLS",
    "USER_METRICS",
    "EvaluationResult",
    "compare",
    "evaluate",
    "evaluate_detailed",
    "new_user_holdout",
    "new_user_kfold",
    "paired_differences",
    "paired_interval",
    "recbole_split",
    "tune",
    "user_metrics",
    "warm_split",
]
