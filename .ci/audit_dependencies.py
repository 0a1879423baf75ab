"""Known vulnerabilities in the locked dependencies, from PyPI's advisory data.

pip-audit asks PyPI for each release (`/pypi/<name>/<version>/json`) or OSV; from the machines
this project is built on neither answers (the release endpoint is 404 through the mirror, OSV
does not resolve). The project endpoint (`/pypi/<name>/json`) does answer, and its
`vulnerabilities` are those of the project's latest release: for every locked package that *is*
its latest release, that is exactly the advisory list for our version. Those are audited; any
other is named as not audited here. A known vulnerability fails the run; `make audit` runs
pip-audit itself where its services are reachable.
"""

from __future__ import annotations

import concurrent.futures
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).parent.parent


def locked() -> list[tuple[str, str]]:
    exported = subprocess.run(  # noqa: S603  (our own uv, fixed arguments)
        [str(ROOT / ".cache/uv-tool/bin/uv"), "export", "--frozen", "--all-packages",
         "--no-emit-workspace", "--no-hashes", "--format", "requirements-txt"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout  # fmt: skip
    pins = [line.split(";")[0].strip() for line in exported.splitlines() if "==" in line]
    return [tuple(pin.split("==", 1)) for pin in pins]  # type: ignore[misc]


def advisories(client: httpx.Client, name: str, version: str) -> tuple[str, str, str, list[str]]:
    for attempt in range(3):
        try:
            project = client.get(f"https://pypi.org/pypi/{name}/json").raise_for_status().json()
            break
        except httpx.HTTPError:
            if attempt == 2:
                return name, version, "unreachable", []
    latest = project["info"]["version"]
    if latest != version:
        return name, version, f"not audited here (latest is {latest})", []
    listed = project.get("vulnerabilities") or []
    found = [v.get("id", "?") for v in listed if not v.get("withdrawn")]
    return name, version, "audited", found


def main() -> int:
    pins = locked()
    with httpx.Client(timeout=15) as client, concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda pin: advisories(client, *pin), pins))
    audited = [r for r in results if r[2] == "audited"]
    vulnerable = [r for r in audited if r[3]]
    print(f"dependency audit: {len(audited)} of {len(results)} locked packages audited against "
          f"PyPI's advisories; {len(vulnerable)} with known vulnerabilities")  # fmt: skip
    for name, version, state, found in results:
        if state != "audited" or found:
            print(f"  {name}=={version}: {', '.join(found) if found else state}")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
