"""The ``als`` model with its factorisation run by Apache Spark (``pyspark.ml`` implicit ALS).

:class:`SparkALS` is :class:`~artistrec.models.als.ALS` whose item factors are learned by
``pyspark.ml.recommendation.ALS(implicitPrefs=True)`` on a Spark cluster (or ``local[N]``)
instead of by ``implicit`` in this process. Everything else is the ``als`` model's: the
confidence, the popularity tie-break, the exact known-user step, scoring, fold-in and the
artifact. Its artifact names model ``als`` (plus an ``engine`` entry with Spark's version and
settings), so ``load_model``, the service, the API and the web app serve it as any ``als`` model.

How our objective maps onto Spark's (``ALS.computeFactors`` in Spark's source):

- **Confidence.** Ours: ``c = 1 + alpha * w(count)`` on listened pairs (preference 1), ``c = 1``
  elsewhere, with ``w`` the model's weighting. Spark: ``c = 1 + alpha * |r|``, preference 1 when
  ``r > 0``. So Spark gets ``r = w(count)`` (float32) and our ``alpha``: the same ``C``. Every
  weighting is positive on listened pairs, except a BM25 weight of a person who listened to
  nearly every artist (idf <= 0), which Spark would read as a dislike: that is refused.
- **Regularisation** differs and no ``regParam`` makes the objectives equal. Ours (implicit's)
  is ``l2 * (sum_u |x_u|^2 + sum_i |y_i|^2)``; Spark's is ALS-WR's weighted-lambda
  ``regParam * (sum_u n_u |x_u|^2 + sum_i n_i |y_i|^2)`` with ``n`` the number of listened pairs
  of that user or artist. They agree only if every user and every artist had the same count. We
  use ``regParam = l2 / mean(n_u)`` (:func:`spark_reg_param`): a user with the mean number of
  artists gets exactly our penalty (on HetRec 97 % of users have 50, the mean is 49.1). An
  artist with ``n_i`` listeners gets ``l2 * n_i / mean(n_u)``: less than ours below the mean,
  more above it. docs/BENCHMARKS.md ("ALS on Spark") measures the effect on ranking quality.
- **Known users.** Spark's user factors are dropped: each known user's vector is recomputed
  exactly against Spark's final item factors under OUR objective (``l2``, as ``ALS`` does), so a
  known user and a fold-in of the same history are the same solve.

The data reaches Spark as one Arrow table built from the CSR arrays (no Python object per row),
and the item factors come back as Arrow. Spark's JVM writes its console output (log level WARN)
to a log file, never to the terminal.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from artistrec.data.dataset import Dataset
from artistrec.models.als import ALS
from artistrec.models.linalg import single_blas_thread
from artistrec.models.weighting import bm25_length_norm, popularity_prior, weigh

if TYPE_CHECKING:  # pyspark is an optional extra
    from pyspark.sql import SparkSession

#: Master used when none is given (all cores of this machine).
DEFAULT_MASTER = "local[*]"
#: Spark 4 (the ``spark`` extra) runs on Java 17 or newer.
MIN_JAVA = 17
INSTALL_JAVA = "apt-get install default-jre-headless"
INSTALL_PYSPARK = 'pip install "artistrec[spark]"'
APP_NAME = "artistrec-als"
#: Spark job group of the ALS fit (progress reporting filters on it).
JOB_GROUP = "artistrec-als"
#: Spark settings of every session this module starts: no web UI, no console progress bar
#: (the CLI draws its own), Arrow transfers.
SESSION_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}

_LOCAL = re.compile(r"^local(\[(\*|[1-9]\d*)(,\s*[1-9]\d*)?\])?$")
_LOCAL_CLUSTER = re.compile(r"^local-cluster\[\s*[1-9]\d*\s*,\s*[1-9]\d*\s*,\s*[1-9]\d*\s*\]$")
_STANDALONE = re.compile(r"^spark://(?P<hosts>[^/\s]+)$")
_HOST_PORT = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-_]+):(?P<port>\d{1,5})$")

#: our name -> the ``als`` model's parameter name. The models/ refactor renames
#: ``regularization`` to ``l2``: this mapping is the only place that reads ALS's names.
ALS_PARAM_NAMES: dict[str, str] = {
    "factors": "factors",
    "l2": "l2",
    "alpha": "alpha",
    "iterations": "iterations",
    "weighting": "weighting",
    "random_state": "random_state",
}


class SparkUnavailableError(RuntimeError):
    """Spark cannot run here: pyspark or Java is missing, or the master is wrong or unreachable."""


# ----------------------------------------------------------------------------- environment
def check_master(master: str, timeout: float = 5.0) -> str:
    """Validate a Spark master URL; for ``spark://host:port`` also check the port answers.

    Accepted: ``local``, ``local[N]``, ``local[*]``, ``local[N,F]``, ``local-cluster[N,C,M]``,
    ``spark://host:port[,host:port...]``, ``yarn`` and ``k8s://...``.
    """
    if not isinstance(master, str) or not master.strip():
        raise SparkUnavailableError(
            "the Spark master is empty; use e.g. local[2] or spark://host:7077"
        )
    master = master.strip()
    if _LOCAL.match(master) or _LOCAL_CLUSTER.match(master) or master == "yarn":
        return master
    if master.startswith("k8s://") and len(master) > len("k8s://"):
        return master
    m = _STANDALONE.match(master)
    if m is None:
        raise SparkUnavailableError(
            f"{master!r} is not a Spark master URL; use local[N] (N cores of this machine), "
            "local[*] (all of them) or spark://host:7077 (a standalone cluster)"
        )
    addresses = []
    for part in m.group("hosts").split(","):
        hp = _HOST_PORT.match(part)
        if hp is None or not 0 < int(hp.group("port")) < 65536:
            raise SparkUnavailableError(
                f"{master!r}: {part!r} is not host:port (e.g. spark://spark-master:7077)"
            )
        addresses.append((part, hp.group("host").strip("[]"), int(hp.group("port"))))
    failures = []
    for part, host, port in addresses:  # one answering master is enough (standby masters)
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return master
        except OSError as exc:
            failures.append(f"{part} ({exc.strerror or type(exc).__name__})")
    raise SparkUnavailableError(
        f"cannot reach the Spark master at {', '.join(failures)}; is the cluster running and "
        "the address right?"
    )


def java_executable() -> str | None:
    """The ``java`` Spark would start: ``$JAVA_HOME/bin/java`` if JAVA_HOME is set, else PATH's."""
    home = os.environ.get("JAVA_HOME")
    if home:
        path = Path(home) / "bin" / "java"
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which("java")


def java_major_version(java: str) -> int | None:
    """Major version of a Java runtime (8 for "1.8.0_x", 17 for "17.0.15"), None if unreadable."""
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if m is None:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def check_java() -> str:
    """Path of a usable Java runtime, or a :class:`SparkUnavailableError` saying what to install."""
    java = java_executable()
    if java is None:
        where = " ($JAVA_HOME/bin/java does not exist)" if os.environ.get("JAVA_HOME") else ""
        raise SparkUnavailableError(
            f"Spark needs a Java runtime{where}: {INSTALL_JAVA} (or any Java {MIN_JAVA}+ on PATH)"
        )
    major = java_major_version(java)
    if major is not None and major < MIN_JAVA:
        raise SparkUnavailableError(
            f"Spark needs Java {MIN_JAVA} or newer, {java} is Java {major}: {INSTALL_JAVA} "
            f"(Debian 12+) or point JAVA_HOME at a Java {MIN_JAVA}+ runtime"
        )
    return java


def spark_version() -> str:
    """The installed pyspark's version, or a :class:`SparkUnavailableError` saying how to get it."""
    try:
        import pyspark
    except ImportError as exc:
        raise SparkUnavailableError(f"Spark support is not installed: {INSTALL_PYSPARK}") from exc
    return str(pyspark.__version__)


@contextlib.contextmanager
def _quiet_pyspark() -> Iterator[None]:
    """pyspark warns (when its modules load) that it does not fully support pandas 3; nothing
    here uses pandas (the data goes through Arrow), so that warning only adds console noise."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*does not yet fully support pandas", category=FutureWarning
        )
        yield


def default_log_path() -> Path:
    """Where Spark's JVM output goes: ``<cache>/spark/spark.log``."""
    from artistrec.data.source import cache_dir

    return cache_dir() / "spark" / "spark.log"


def _log_tail(path: Path, n: int = 5) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


# ----------------------------------------------------------------------------- sessions
def _start_context(conf: Any, log: Path) -> Any:
    """A SparkContext for ``conf`` whose JVM writes its stdout and stderr to ``log``."""
    from pyspark import SparkContext

    if SparkContext._gateway is not None:  # the JVM of an earlier session: already logs to a file
        return SparkContext(conf=conf)
    from pyspark.java_gateway import launch_gateway

    with open(log, "ab") as out:  # the JVM keeps its own copy of the descriptor
        gateway = launch_gateway(conf, popen_kwargs={"stdout": out, "stderr": out})
    return SparkContext(conf=conf, gateway=gateway)


@contextlib.contextmanager
def spark_session(
    master: str = DEFAULT_MASTER, log_path: str | os.PathLike[str] | None = None
) -> Iterator[SparkSession]:
    """A Spark session on ``master`` for the duration of the block, quiet on the console.

    Checks the master, Java and pyspark first (each failure is a :class:`SparkUnavailableError`
    that says what to do). The JVM's stdout and stderr go to ``log_path`` (default
    :func:`default_log_path`), at log level WARN. If this process already runs a Spark session on
    the same master, that session is used and left running; a session on another master is an
    error (Spark allows one per process). Local sessions checkpoint to a temporary directory,
    removed at the end.
    """
    master = check_master(master)
    version = spark_version()
    check_java()
    with _quiet_pyspark():
        from pyspark import SparkConf, SparkContext
        from pyspark.sql import SparkSession

    running = SparkContext._active_spark_context
    if running is not None:
        if running.master != master:
            raise SparkUnavailableError(
                f"this process already runs Spark on {running.master}; stop it before starting "
                f"one on {master}"
            )
        yield SparkSession(running)
        return

    log = Path(log_path) if log_path is not None else default_log_path()
    log.parent.mkdir(parents=True, exist_ok=True)
    conf = SparkConf().setMaster(master).setAppName(APP_NAME).setAll(SESSION_CONF.items())
    try:
        with _quiet_pyspark():
            sc = _start_context(conf, log)
    except Exception as exc:
        tail = _log_tail(log)
        raise SparkUnavailableError(
            f"Spark {version} did not start on {master}: {str(exc).strip().splitlines()[0]}"
            + (f"\nlast lines of {log}:\n{tail}" if tail else f" (log: {log})")
        ) from exc
    sc.setLogLevel("WARN")
    checkpoints = None
    if master.startswith("local"):
        checkpoints = tempfile.mkdtemp(prefix="artistrec-spark-ckpt-")
        sc.setCheckpointDir(checkpoints)
    try:
        yield SparkSession(sc)
    finally:
        sc.stop()
        if checkpoints is not None:
            shutil.rmtree(checkpoints, ignore_errors=True)


def active_session() -> SparkSession:
    """The Spark session this process runs, or a :class:`SparkUnavailableError` saying how to start one."""
    spark_version()
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    running = SparkContext._active_spark_context
    if running is None:
        raise SparkUnavailableError(
            "no Spark session is running: fit inside `with spark_session(master):` "
            "(artistrec.models.spark_als)"
        )
    return SparkSession(running)


@dataclass(frozen=True)
class SparkStatus:
    """What the ALS fit's Spark jobs are doing right now (for a progress display)."""

    jobs_done: int
    stage: int | None
    tasks_done: int
    tasks_total: int

    def describe(self) -> str:
        if self.stage is None:
            return f"{self.jobs_done} Spark job(s) done"
        return (
            f"{self.jobs_done} Spark job(s) done, stage {self.stage}: "
            f"{self.tasks_done}/{self.tasks_total} tasks"
        )


def fit_status(session: SparkSession) -> SparkStatus:
    """Progress of the running :class:`SparkALS` fit, read from Spark's status tracker."""
    tracker = session.sparkContext.statusTracker()
    done, stage, tasks_done, tasks_total = 0, None, 0, 0
    for job in tracker.getJobIdsForGroup(JOB_GROUP):
        info = tracker.getJobInfo(job)
        if info is not None and info.status == "SUCCEEDED":
            done += 1
    for sid in tracker.getActiveStageIds():
        info = tracker.getStageInfo(sid)
        if info is not None and (stage is None or sid > stage):
            stage, tasks_done, tasks_total = sid, info.numCompletedTasks, info.numTasks
    return SparkStatus(done, stage, tasks_done, tasks_total)


def expected_jobs(iterations: int) -> int:
    """About how many Spark jobs one :class:`SparkALS` fit runs, for a progress bar (Spark's
    ``ALS.train``): the empty-input check, two to build the rating blocks, one Gram matrix per
    half-iteration, a checkpoint every 10 iterations (local masters), the two final factor
    sets, and collecting the item factors."""
    return 6 + 2 * int(iterations) + int(iterations) // 10


# ----------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class _Hyper:
    factors: int
    l2: float
    alpha: float
    iterations: int
    weighting: str
    random_state: int


def _hyperparameters(model: ALS) -> _Hyper:
    """The ``als`` model's hyper-parameters under our names, validated as ALS validates them."""
    model.validate_params()
    params = model.get_params()
    return _Hyper(**{ours: params[theirs] for ours, theirs in ALS_PARAM_NAMES.items()})


#: How :func:`spark_reg_param` maps ``l2`` (recorded in the artifact's engine metadata).
REG_PARAM_RULE = "l2 / mean number of listened artists per user"


def spark_reg_param(l2: float, counts: sp.csr_matrix) -> float:
    """Spark's ``regParam`` for our ``l2``: ``l2 / mean(n_u)`` over users with listens.

    Spark multiplies ``regParam`` by each user's (artist's) number of listened pairs; with this
    value a user with the mean count gets exactly ``l2`` (see the module docstring).
    """
    n_u = np.diff(sp.csr_matrix(counts).indptr)
    active = n_u[n_u > 0]
    return float(l2) / float(active.mean()) if active.size else float(l2)


def ratings_table(weights: sp.csr_matrix) -> Any:
    """The nonzero entries of a users x artists CSR as an Arrow table (user, item: int32 row and
    column indices; rating: float32), built from the CSR arrays without a Python object per row."""
    import pyarrow as pa

    w = sp.csr_matrix(weights)
    rows = np.repeat(np.arange(w.shape[0], dtype=np.int32), np.diff(w.indptr))
    return pa.table(
        {
            "user": pa.array(rows, type=pa.int32()),
            "item": pa.array(w.indices.astype(np.int32, copy=False), type=pa.int32()),
            "rating": pa.array(w.data.astype(np.float32, copy=False), type=pa.float32()),
        }
    )


def factors_from_arrow(table: Any, n_rows: int, rank: int) -> np.ndarray:
    """A dense (n_rows, rank) float32 matrix from Spark's ``(id, features)`` factor table;
    rows without an id (artists nobody listened to in training) are zero."""
    import pyarrow as pa

    ids = table.column("id").to_numpy().astype(np.int64)
    feats = table.column("features")
    if isinstance(feats, pa.ChunkedArray):
        feats = feats.combine_chunks()
    values = feats.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    if values.size != ids.size * rank:
        raise ValueError(f"Spark returned {values.size} factor values for {ids.size} x {rank}")
    if ids.size and (ids.min() < 0 or ids.max() >= n_rows):
        raise ValueError(f"Spark returned factor ids outside 0..{n_rows - 1}")
    out = np.zeros((n_rows, rank), dtype=np.float32)
    out[ids] = values.reshape(ids.size, rank)
    return out


def spark_item_factors(
    session: SparkSession,
    weights: sp.csr_matrix,
    *,
    rank: int,
    iterations: int,
    reg_param: float,
    alpha: float,
    seed: int,
    blocks: int,
) -> np.ndarray:
    """Item factors (n_artists, rank) of Spark's implicit ALS on ``weights`` (users x artists
    CSR of ``w(count)``): confidence ``1 + alpha * w``, ``regParam = reg_param``. The ratings go
    to Spark as one Arrow table; the factors come back as Arrow. Jobs run in :data:`JOB_GROUP`."""
    sc = session.sparkContext
    sc.setJobGroup(JOB_GROUP, f"artistrec ALS ({rank} factors, {iterations} iterations)")
    try:
        with _quiet_pyspark():
            from pyspark.ml.recommendation import ALS as SparkALSEstimator

            frame = session.createDataFrame(ratings_table(weights))
            estimator = SparkALSEstimator(
                rank=rank,
                maxIter=iterations,
                regParam=reg_param,
                alpha=alpha,  # with rating = w(count): c = 1 + alpha * w, as ours
                implicitPrefs=True,
                nonnegative=False,
                seed=seed,
                numUserBlocks=blocks,
                numItemBlocks=blocks,
                userCol="user",
                itemCol="item",
                ratingCol="rating",
            )
            fitted = estimator.fit(frame)
            return factors_from_arrow(fitted.itemFactors.toArrow(), weights.shape[1], rank)
    finally:
        for key in ("spark.jobGroup.id", "spark.job.description"):
            sc.setLocalProperty(key, None)  # type: ignore[arg-type]  # None removes it


class SparkALS(ALS):
    """``als`` trained by Spark's implicit ALS; needs a running session (:func:`spark_session`).

    Takes exactly the ``als`` model's parameters and saves an ``als`` artifact, so
    ``load_model`` returns a plain :class:`~artistrec.models.als.ALS`.
    """

    def check_params(self) -> None:
        """Raise ``ValueError`` for a bad hyper-parameter now, before a Spark session starts."""
        _hyperparameters(self)

    def _fit(self, dataset: Dataset) -> None:
        hp = _hyperparameters(self)
        self.prior_ = popularity_prior(self.seen_)
        self.length_norm_ = bm25_length_norm(self.seen_)
        weights = weigh(self.seen_, hp.weighting, self.length_norm_)
        if weights.nnz and float(weights.data.min()) <= 0.0:
            raise ValueError(
                f"{hp.weighting} weighting gives a non-positive weight to some listened pairs "
                "(people who listened to nearly every artist); Spark would read them as "
                "dislikes: use another weighting"
            )
        session = active_session()
        sc = session.sparkContext
        reg_param = spark_reg_param(hp.l2, self.seen_)
        blocks = max(1, int(sc.defaultParallelism))
        start = time.perf_counter()
        item_factors = spark_item_factors(
            session,
            weights,
            rank=int(hp.factors),
            iterations=int(hp.iterations),
            reg_param=reg_param,
            alpha=float(hp.alpha),
            seed=int(hp.random_state),
            blocks=blocks,
        )
        seconds = time.perf_counter() - start
        user_factors = self._exact_user_factors(item_factors, hp)
        self._set_state(
            {
                "user_factors": user_factors,
                "item_factors": item_factors,
                "prior": self.prior_,
                "length_norm": self.length_norm_,
            }
        )
        self.engine_ = {
            "name": "spark",
            "spark_version": session.version,
            "master": sc.master,
            "reg_param": reg_param,
            "reg_param_rule": REG_PARAM_RULE,
            "blocks": blocks,
            "spark_seconds": round(seconds, 3),
        }

    def _exact_user_factors(self, item_factors: np.ndarray, hp: _Hyper) -> np.ndarray:
        """Every known user's exact ALS solve against ``item_factors`` under our objective:
        ``x = (YᵀY + Yᵀ(C - I)Y + l2 I)⁻¹ YᵀCp``, the fold-in's formula (implicit's batched
        Cholesky solver, as ``ALS`` uses)."""
        from implicit.cpu.als import AlternatingLeastSquares

        conf = self._confidence(self.seen_)
        # one BLAS thread under implicit's own solver (implicit warns about oversubscription)
        with single_blas_thread():
            solver = AlternatingLeastSquares(
                factors=int(hp.factors),
                regularization=float(hp.l2),
                alpha=1.0,  # the confidence is already in ``conf``
                random_state=int(hp.random_state),
                num_threads=1,
            )
            solver.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)
            users = solver.recalculate_user(np.arange(conf.shape[0]), conf)
        return np.ascontiguousarray(users, dtype=np.float32)

    def _artifact_meta(self) -> dict[str, Any]:
        return {"engine": dict(self.engine_)}
