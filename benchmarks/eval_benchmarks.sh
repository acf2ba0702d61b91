#!/usr/bin/env bash
# Offline evaluation benchmarks of every available model on the real HetRec data.
# Writes CSV/JSON/PNG into ${OUT:-benchmarks/results} and regenerates the results block of
# docs/BENCHMARKS.md from those files (no number is typed by hand).
#
#   LASTFM_DATA_DIR=/path/to/hetrec2011-lastfm-2k bash benchmarks/eval_benchmarks.sh
#   MODELS=popularity,als bash benchmarks/eval_benchmarks.sh      # a subset
#
# Single-threaded BLAS so timings are comparable on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-benchmarks/results}
mkdir -p "$OUT"
{ git rev-parse HEAD; git status --short src; } > "$OUT/commit.txt" 2>/dev/null || true
MODELS_ARG=()
if [[ -n "${MODELS:-}" ]]; then MODELS_ARG=(--models "$MODELS"); fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}

# warm users: 20% of each user's artists held out, 3 seeds
artistrec evaluate --protocol warm "${MODELS_ARG[@]}" --k 10 --seeds 0,1,2 --out "$OUT"
# new users: 10-fold CV over users, N = 3, 5, 10 revealed artists (with levels), seed 0.
# Models whose single fold-in takes ~0.5 s (SLOW_FOLDIN) would need hours for all ~5,600
# requests; they run separately on MAX_USERS random held-out users per fold, with popularity
# on the same users as the paired reference.
SLOW_FOLDIN=${SLOW_FOLDIN-bpr}
MAX_USERS=${MAX_USERS:-50}
ALL=$(python -c "from artistrec.evaluation.runner import default_model_names as d; print(','.join(d()))")
FAST=$(python -c "import sys; s=set(sys.argv[2].split(',')); print(','.join(m for m in sys.argv[1].split(',') if m not in s))" "${MODELS:-$ALL}" "$SLOW_FOLDIN")
artistrec evaluate --protocol new-users --models "$FAST" --k 10 --seeds 0 --folds 10 --n-revealed 3,5,10 --out "$OUT"
if [[ -n "$SLOW_FOLDIN" ]]; then
  artistrec evaluate --protocol new-users --models "popularity,$SLOW_FOLDIN" --k 10 --seeds 0 --folds 10 --n-revealed 3,5,10 --max-users "$MAX_USERS" --out "$OUT/sampled"
fi
# RecBole-style: random 80/10/10 per user, test ranked against all artists minus train+valid, 3 seeds
artistrec evaluate --protocol recbole "${MODELS_ARG[@]}" --k 10 --seeds 0,1,2 --out "$OUT"

python benchmarks/eval_report.py docs/BENCHMARKS.md "$OUT"
