"""A real SMTP server in its own process for benchmarks, as a mail relay would be: accepts
every message without parsing it and, on SIGTERM, prints how many it received.

    python -m bench.smtp_server PORT [ARRIVALS_FILE]

With ARRIVALS_FILE it also writes, on SIGTERM, one line per message and recipient:
`<recipient>\t<unix time of acceptance>`, so a benchmark can time mail end to end.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self) -> None:
        self.received = 0
        self.arrivals: list[tuple[str, float]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        accepted_at = time.time()
        self.arrivals.extend((recipient, accepted_at) for recipient in envelope.rcpt_tos)
        return "250 OK"


def main() -> None:
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    controller.stop()
    if len(sys.argv) > 2:
        lines = (f"{recipient}\t{at:.6f}\n" for recipient, at in counter.arrivals)
        Path(sys.argv[2]).write_text("".join(lines))
    print(counter.received, flush=True)


if __name__ == "__main__":
    main()
