"""Flame graphs of running services with py-spy (sampling, from outside the process).

py-spy reads the target's memory with ptrace: where that is refused (a container without
CAP_SYS_PTRACE, kernel.yama.ptrace_scope >= 2) the error is kept in the result instead of a file.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PY_SPY = Path(sys.executable).with_name("py-spy")


@dataclass
class Recording:
    service: str
    output: Path
    process: subprocess.Popen[bytes]


def record(
    pid: int, output: Path, *, seconds: int, stderr: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """py-spy on one process for `seconds`, sampling without pausing it (its speed and latency
    stay its own); a `.txt` output gets the raw stacks (a line per stack and count) instead of
    the SVG."""
    output.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "100",
            "--nonblocking",
            "--format",
            "raw" if output.suffix == ".txt" else "flamegraph",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def start_flame_graphs(
    pids: dict[str, int], *, seconds: int, folder: Path, name: str
) -> list[Recording]:
    """py-spy on each service at once, `seconds` long, each into
    `folder/flame-<name>-<service>.svg` (`name` says which benchmark's load it was under)."""
    folder.mkdir(parents=True, exist_ok=True)
    recordings = []
    for service, pid in pids.items():
        output = folder / f"flame-{name}-{service}.svg"
        output.unlink(missing_ok=True)
        process = record(pid, output, seconds=seconds, stderr=subprocess.PIPE)
        recordings.append(Recording(service, output, process))
    return recordings


def finish(recordings: list[Recording]) -> dict[str, str]:
    """Each service's flame graph path, or what py-spy said when it wrote none."""
    result = {}
    for recording in recordings:
        _, stderr = recording.process.communicate(timeout=120)
        if recording.output.exists():
            result[recording.service] = str(recording.output)
        else:
            said = stderr.decode(errors="replace").strip().splitlines()
            result[recording.service] = "not recorded: " + (said[-1] if said else "py-spy failed")
    return result
