"""Executors for bound tightening: neurons of a layer are independent jobs.

Any ``concurrent.futures.Executor`` works (a Dask cluster's ``client.get_executor()``
scales past one machine); ``InlineExecutor`` runs jobs in the calling thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any


class InlineExecutor(Executor):
    """Runs each submitted job immediately in the caller (no processes, easy to debug)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # delivered through the future like any executor
            future.set_exception(error)
        return future


def local_process_pool() -> ProcessPoolExecutor:
    """One worker process per core."""
    return ProcessPoolExecutor(max_workers=os.cpu_count() or 1)
