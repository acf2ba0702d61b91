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
MODELS_ARG=()
if [[ -n "${MODELS:-}" ]]; then MODELS_ARG=(--models "$MODELS"); fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}

# warm users: 20% of each user's artists held out, 3 seeds
artistrec evaluate --protocol warm "${MODELS_ARG[@]}" --k 10 --seeds 0,1,2 --out "$OUT"
# new users: 10-fold CV over users, N = 3, 5, 10 revealed artists (with levels), seed 0
artistrec evaluate --protocol new-users "${MODELS_ARG[@]}" --k 10 --seeds 0 --folds 10 --n-revealed 3,5,10 --out "$OUT"
# RecBole-style: random 80/10/10 per user, test ranked against all artists minus train+valid, 3 seeds
artistrec evaluate --protocol recbole "${MODELS_ARG[@]}" --k 10 --seeds 0,1,2 --out "$OUT"

python benchmarks/eval_report.py "$OUT" docs/BENCHMARKS.md
