"""schemathesis against each service's own OpenAPI document, every check on (server errors,
status codes and content types documented, response schemas, negative data rejected, schema-
valid data accepted, authentication not ignored, stateful sequences), against the three
services running as processes with real Postgres and a real broker. Bounded by example count
and a timeout; `schemathesis.toml` at the top says which answers count as acceptance."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.builders import ORGANISER_TOKEN
from tests.e2e.conftest import Services

ROOT = Path(__file__).parent.parent.parent
EXAMPLES_PER_OPERATION = 25


def _fuzz(base_url: str) -> tuple[int, str]:
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            f"{base_url}/api/v1/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            "20261122",
            "--header",
            f"Authorization: Bearer {ORGANISER_TOKEN}",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_every_service_survives_its_own_openapi_fuzzed(services: Services) -> None:
    totals = {}
    for name in ("registration", "notification", "reporting"):
        code, output = _fuzz(f"http://127.0.0.1:{services.ports[name]}")
        generated = re.search(r"(\d+) generated", output)
        totals[name] = int(generated.group(1)) if generated else 0
        assert code == 0, f"{name}:\n{output[-6000:]}"
        assert totals[name] > 0, output[-2000:]
    print(f"schemathesis: cases generated per service {totals}, 0 failures")
