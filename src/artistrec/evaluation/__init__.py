"""Honest offline evaluation: leak-free splits (``splits``), top-K metrics (``metrics``), the
runner over models by name (``runner``), paired comparisons (``stats``), validation-only tuning
(``tuning``), and reports (``report``: tables, CSV/JSON, charts)."""

from artistrec.evaluation.metrics import ALL_METRICS, USER_METRICS, user_metrics
from artistrec.evaluation.runner import (
    PROTOCOLS,
    EvaluationResult,
    evaluate,
    evaluate_detailed,
)
from artistrec.evaluation.splits import (
    new_user_holdout,
    new_user_kfold,
    recbole_split,
    warm_split,
)
from artistrec.evaluation.stats import compare, paired_differences, paired_interval
from artistrec.evaluation.tuning import tune

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
