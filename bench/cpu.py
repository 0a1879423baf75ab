"""CPU time from /proc, of one process and of the whole machine: where a load's cores went."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """CPU seconds the process has used (user and system)."""
    # utime and stime, fields 14 and 15 of /proc/<pid>/stat, after the parenthesised name.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def machine_busy_seconds() -> float:
    """CPU seconds all cores have been busy (anything but idle and waiting for I/O)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / TICKS_PER_S


def server_seconds(pid: int) -> float:
    """CPU seconds of a server that forks a process per connection, as PostgreSQL does: its own,
    its live children's, and those of the children it has reaped (cutime and cstime), so a
    backend that ends between two readings is still counted."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = sum(int(value) for value in fields[11:15]) / TICKS_PER_S
    children = 0.0
    for child in _children(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # ended meanwhile
            children += process_seconds(child)
    return own + children


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (field 4 of their stat), read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended while we looked
        if parent == pid:
            found.append(int(entry.name))
    return found
