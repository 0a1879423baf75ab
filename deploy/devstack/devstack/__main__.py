"""`python -m devstack run [--fresh]`: the whole stack on this machine, until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from devstack.stack import METRICS_PORTS, SERVICES, Stack


def _organisation_keys(keys_json: str) -> list[str]:
    """The demo organisations' organiser keys: each opens the console for its own networks."""
    if not keys_json:
        return []
    keys = json.loads(keys_json)
    return ["", "  organisation keys (console and API, one organisation each):"] + [
        f"    {name:<22} {key}" for name, key in keys.items()
    ]


def _banner(info: dict[str, str], stack: Stack) -> str:
    lines = [
        "",
        f"Tilmeld is up in {info['startup_seconds']} s (demo data: {info['demo']}; "
        f"{info['replayed']} retained events replayed into the fresh broker).",
        "",
        f"  sign-up pages           http://127.0.0.1:{SERVICES['registration']}/  (da, nb, de, en)",
        f"  organiser console       http://127.0.0.1:{SERVICES['registration']}/console  "
        "(the organiser token or an organisation key below)",
        "",
        *(
            f"  {name:<13} API docs  http://127.0.0.1:{port}/docs  (OpenAPI: /openapi.json)"
            for name, port in SERVICES.items()
        ),
        *(
            f"  {name:<13} AsyncAPI  http://127.0.0.1:{port}/asyncapi"
            for name, port in SERVICES.items()
        ),
        *(
            f"  {name:<13} metrics   http://127.0.0.1:{port}/metrics  (for Prometheus)"
            for name, port in METRICS_PORTS.items()
        ),
    ]
    if stack.catcher:
        lines.append(
            f"  mailbox                 http://127.0.0.1:{stack.mailbox_port}/  "
            f"(SMTP on 127.0.0.1:{stack.smtp_port})"
        )
    lines += [
        "",
        f"  organiser token  {info['organiser_token']}  (the platform: every organisation)",
        f"  reporting token  {info['reporting_token']}",
        f"  database         {info['database_url']}",
        f"  kafka            {info['kafka']}",
        f"  logs             {stack.state}/logs/",
        *_organisation_keys(info["organisation_keys"]),
        "",
        f"  dashboard     http://127.0.0.1:{SERVICES['reporting']}/dashboard"
        f"#token={info['reporting_token']}",
        "",
        "  Try:  curl -s http://127.0.0.1:8001/api/v1/networks | python3 -m json.tool",
        "  More in README.md. Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="devstack")
    parser.add_argument("command", choices=["run", "measure"])
    parser.add_argument("--fresh", action="store_true", help="delete local data first")
    parser.add_argument("--count", type=int, default=50, help="measure: registrations")
    parser.add_argument("--rate", type=float, default=5.0, help="measure: registrations/s")
    args = parser.parse_args()
    if args.command == "measure":
        from devstack import measure

        for key, value in measure.run(count=args.count, rate_per_s=args.rate).items():
            print(f"{key:>18}  {value}")
        return
    stack = Stack(root=Path.cwd(), fresh=args.fresh)
    stopping = False

    def request_stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        info = stack.start()
        print(_banner(info, stack), flush=True)
        while not stopping:
            for name, child in stack.children.items():
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping", file=sys.stderr)
                    stopping = True
            time.sleep(0.2)
    finally:
        print("stopping the stack ...", flush=True)
        stack.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    main()
