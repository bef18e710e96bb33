"""How many worker processes a stage gets: one rule for the scanner and the patcher.

A process pool costs a start-up (forking, importing, pickling results back), so it only pays once there is
enough work; below that a single process is faster. An explicit ``--jobs`` is obeyed, but never with more
workers than tasks (a worker with nothing to do is pure cost). Cores are counted from the CPU affinity, which can
be fewer than the machine has (containers, ``taskset``).
"""

from __future__ import annotations

import os


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), which can be fewer than the machine has."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(tasks: int, jobs: int | None, *, worth_a_pool: bool, tasks_per_worker: int = 1) -> int:
    """Workers for ``tasks`` independent tasks.

    ``jobs``: the user's ``--jobs`` (None: decide). ``worth_a_pool``: whether the work is big enough to pay for a
    pool at all (each stage knows its own measure: files and bytes for the scanner, files for the patcher).
    ``tasks_per_worker``: the fewest tasks that keep one worker busy enough to be worth starting.
    """
    if jobs is not None:
        return max(1, min(jobs, tasks))
    if not worth_a_pool:
        return 1
    return max(1, min(available_cores(), tasks // max(1, tasks_per_worker)))
