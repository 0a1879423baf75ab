"""The load generator on a core of its own, when `BENCH_PIN=1`.

On two cores the Python load generator takes a share of the CPU it measures. Pinned, every
process a benchmark started (PostgreSQL, Tansu, the SMTP server, the services, and their threads
and later forks) runs on CPU 0 only, and the benchmark's own process (the HTTP client, the
watchers) on CPU 1 only: the system under test then has one core, the load generator the other.
That is `taskset -c 0` for the stack and `taskset -c 1` for the load generator, applied to
processes already running, because the stack is started from inside the benchmark.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

STACK_CPUS = frozenset({0})
LOAD_GENERATOR_CPUS = frozenset({1})


def requested() -> bool:
    return os.environ.get("BENCH_PIN", "") not in ("", "0")


def description() -> dict[str, Any] | None:
    """What the JSON records: the cores of each side, or None when nothing is pinned."""
    if not requested():
        return None
    return {
        "stack_cpus": sorted(STACK_CPUS),
        "load_generator_cpus": sorted(LOAD_GENERATOR_CPUS),
        "how": "sched_setaffinity of every thread (taskset -c 0 / taskset -c 1)",
    }


def pin_if_requested() -> None:
    """Pin (again) after starting a process: a child inherits the load generator's core."""
    if not requested():
        return
    me = os.getpid()
    for pid in _descendants(me):
        _set_affinity(pid, STACK_CPUS)
    _set_affinity(me, LOAD_GENERATOR_CPUS)


def _set_affinity(pid: int, cpus: frozenset[int]) -> None:
    # Affinity is per thread; threads and forks made later inherit it from their creator.
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(ProcessLookupError, PermissionError):  # the thread ended
            os.sched_setaffinity(int(task.name), cpus)


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name is in parentheses and may hold spaces: split after it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found: list[int] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found.extend(children)
        frontier.extend(children)
    return found
