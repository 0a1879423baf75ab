"""Headless Chromium (Debian's package) for page tests: the DOM after scripts ran, and a
screenshot a person can look at."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("Chromium is missing: `make test` installs Debian's chromium package")
    return found


def _run(url: str, *extra: str, budget_ms: int = 10_000) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                chromium(),
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                *extra,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )
    return result.stdout


def rendered_dom(url: str, *, width: int = 1400, height: int = 1600) -> str:
    return _run(url, f"--window-size={width},{height}", "--dump-dom")


def screenshot(url: str, path: Path, *, width: int = 1400, height: int = 1600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _run(url, f"--window-size={width},{height}", f"--screenshot={path}")
    return path
