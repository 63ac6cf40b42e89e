"""HiGHS instances for every pyomo-nn solve: silent, and sharing one thread scheduler per process.

Two process-wide facts of highspy (checked with 1.16) shape this module:

- The first ``highspy.Highs()`` of a process prints a banner to file descriptor 1, before
  any option can silence it; ``new_highs`` redirects the descriptor for that one call, so
  ``pyomo-nn ... --quiet`` prints only its answer.
- HiGHS starts one global task scheduler per process, with the ``threads`` of the first run.
  A later run asking for a different number fails ("the scheduler has already been
  initialized"). A run that leaves ``threads`` at its default uses whatever scheduler
  exists, so bound tightening never sets it; a solve that asks for a thread count gets it
  through ``scheduler_for``, which restarts the scheduler when no other HiGHS run of this
  process is active, and otherwise says why it cannot.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import highspy

from pyomo_nn.errors import SolverConfigError

_lock = threading.Lock()
_banner_printed = False
_active_runs = 0
_scheduler_threads: int | None = None
#: The thread whose run started the scheduler: HiGHS ties the scheduler to it, and a run in
#: another thread after it has ended fails (status "Not Set"; seen after a thread pool of
#: training MIPs), so a scheduler whose thread is gone is restarted before the next run.
_scheduler_thread: threading.Thread | None = None


def new_highs() -> highspy.Highs:
    """A ``highspy.Highs`` with console output off (the first one's banner swallowed)."""
    global _banner_printed
    with _lock:
        if _banner_printed:
            highs = highspy.Highs()
        else:
            highs = _without_stdout(highspy.Highs)
            _banner_printed = True
    highs.setOptionValue("output_flag", False)
    return highs


@contextmanager
def scheduler_for(threads: int | None) -> Iterator[None]:
    """Around one HiGHS run: make the process's scheduler match ``threads`` (None: any)."""
    global _active_runs, _scheduler_threads, _scheduler_thread
    with _lock:
        orphaned = _scheduler_thread is not None and not _scheduler_thread.is_alive()
        if orphaned and not _active_runs:
            highspy.Highs.resetGlobalScheduler(True)
            _scheduler_threads = None
            _scheduler_thread = None
        if _scheduler_thread is None:
            _scheduler_thread = threading.current_thread()
        if threads is not None and threads != _scheduler_threads:
            if _active_runs:
                raise SolverConfigError(
                    f"HiGHS cannot switch to threads={threads} while another HiGHS solve runs in "
                    "this process (HiGHS has one thread scheduler per process); leave threads "
                    "unset or run the solves one after another"
                )
            highspy.Highs.resetGlobalScheduler(True)
            _scheduler_threads = threads
            _scheduler_thread = threading.current_thread()
        _active_runs += 1
    try:
        yield
    finally:
        with _lock:
            _active_runs -= 1


def _without_stdout(make: type[highspy.Highs]) -> highspy.Highs:
    """Call ``make()`` with file descriptor 1 pointed at the null device."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return make()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
