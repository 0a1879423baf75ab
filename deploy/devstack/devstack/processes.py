"""Child processes that die with their parent (Linux PR_SET_PDEATHSIG), so nothing is orphaned."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def die_with_parent() -> Callable[[], None] | None:
    return _die_with_parent if sys.platform.startswith("linux") else None


def spawn(
    args: list[str], *, env: dict[str, str], log_file: Path | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    out: IO[Any] | int = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        args,
        env=env,
        cwd=cwd,
        stdout=out,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent(),
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes], *, timeout_s: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
