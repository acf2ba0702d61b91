"""Where a handler's blocking work runs, so the event loop stays free.

CPU-bound work (name suggestions, long rating lists, recommendations in bulk) runs on ONE compute
thread per process: under the GIL more threads add no throughput, only contention, and every
extra CPU-bound thread delays the event loop each time it needs the GIL back (measured on the
real data: four misspelt names at once on Starlette's 40-thread pool held ``GET /health`` p50 at
~90 ms against ~7 ms idle). I/O-bound work (the profile store, reading an artifact) runs on
Starlette's thread pool, where waiting threads release the GIL. Server processes also shorten the
interpreter's switch interval, so the event loop gets the GIL back from the compute thread after
1 ms instead of 5 ms (:func:`tune_interpreter`).
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
T = TypeVar("T")

#: Seconds a thread may hold the GIL while another waits for it (CPython's default: 0.005).
SWITCH_INTERVAL = 0.001

_compute = ThreadPoolExecutor(max_workers=1, thread_name_prefix="artistrec-compute")


async def run_cpu(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` on the compute thread (CPU-bound work)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_compute, functools.partial(fn, *args, **kwargs))


async def run_io(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` on the I/O thread pool (work that mostly waits)."""
    return await run_in_threadpool(fn, *args, **kwargs)


def tune_interpreter() -> None:
    """Server processes: hand the GIL back to the event loop after :data:`SWITCH_INTERVAL`."""
    sys.setswitchinterval(SWITCH_INTERVAL)
