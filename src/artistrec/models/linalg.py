"""Dense linear algebra shared by the closed-form models: SPD inverse and BLAS thread control."""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.linalg as sla
from threadpoolctl import ThreadpoolController

_BLAS_CONTROLLER: ThreadpoolController | None = None


def single_blas_thread() -> contextlib.AbstractContextManager[object]:
    """Context in which BLAS runs on one thread.

    Small or tall-skinny products (fold-ins, implicit's own multi-threaded solvers) only pay for
    BLAS threads in synchronisation, which is 10-50x slower on a busy 2-core machine. The
    controller inspects the loaded libraries once per process (~0.6 ms); each use then costs
    ~0.02 ms, so this is cheap enough for per-request paths.
    """
    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:
        _BLAS_CONTROLLER = ThreadpoolController()
    return _BLAS_CONTROLLER.limit(limits=1, user_api="blas")


def spd_inverse(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix via Cholesky (LAPACK potrf + potri).

    About half the work of a general inverse; ``a`` is overwritten.
    """
    if a.shape[0] == 0:
        return a
    potrf, potri = sla.get_lapack_funcs(("potrf", "potri"), (a,))
    c, info = potrf(a, lower=True, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"Gram matrix is not positive definite (potrf info={info})")
    inv, info = potri(c, lower=True, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky inverse failed (potri info={info})")
    return mirror_lower(inv)


def mirror_lower(m: np.ndarray, block: int = 512) -> np.ndarray:
    """Copy the lower triangle of a square matrix onto its upper one, in place (LAPACK's potri
    fills one triangle). Works by column blocks, which is ~7x faster than ``np.tril`` twice over
    the whole matrix (docs/BENCHMARKS.md)."""
    n = m.shape[0]
    for i0 in range(0, n, block):  # a loop over ~n / block blocks, not over items
        i1 = min(i0 + block, n)
        diag = m[i0:i1, i0:i1]
        m[i0:i1, i0:i1] = np.tril(diag) + np.tril(diag, -1).T
        m[i0:i1, i1:] = m[i1:, i0:i1].T
    return m
