"""Executors for bound tightening: neurons of a layer are independent jobs.

Any ``concurrent.futures.Executor`` works (a Dask cluster's ``client.get_executor()``
scales past one machine); ``InlineExecutor`` runs jobs in the calling thread.

The local pool starts its workers with ``forkserver`` (``spawn`` where there is none), not
``fork``: a forked child inherits locks other threads held at the fork (Pyomo's output
capture lock, HiGHS' thread scheduler), which once left every later solve waiting. Like
any ``multiprocessing`` code, a script that uses the pool must guard its top level with
``if __name__ == "__main__":``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

#: How local worker processes start (see the module docstring).
START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"

#: Modules the fork server imports once, so that each worker starts in milliseconds instead of
#: importing numpy, Pyomo and highspy again (about a second each).
WORKER_PRELOAD = ["pyomo_nn.bounds.tightening", "pyomo_nn.vnnlib.milp"]


def worker_context() -> multiprocessing.context.BaseContext:
    """The multiprocessing context of every worker process pyomo-nn starts."""
    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        context.set_forkserver_preload(WORKER_PRELOAD)
    return context


class InlineExecutor(Executor):
    """Runs each submitted job immediately in the caller (no processes, easy to debug)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # delivered through the future like any executor
            future.set_exception(error)
        return future


class LocalProcessPool(ProcessPoolExecutor):
    """A process pool that says how many workers it has (``workers``)."""

    def __init__(self, workers: int) -> None:
        super().__init__(max_workers=workers, mp_context=worker_context())
        self.workers = workers


def local_process_pool() -> LocalProcessPool:
    """One worker process per core."""
    return LocalProcessPool(os.cpu_count() or 1)


def worker_count(executor: Executor) -> int:
    """Workers of ``executor``: known for the inline and local executors; for any other (a
    Dask client's, say) its ``workers`` attribute if it has one, else the local core count
    (used only to size chunks and share MILP time, never for correctness)."""
    if isinstance(executor, InlineExecutor):
        return 1
    workers = getattr(executor, "workers", None)
    return int(workers) if isinstance(workers, int) and workers > 0 else os.cpu_count() or 1
