"""`python -m reporting serve | migrate | rebuild | reconcile`."""

from __future__ import annotations

import argparse
import asyncio
import gc

from fastapi import FastAPI

from reporting import maintenance
from reporting.main import MIGRATIONS, SCHEMA, create_app
from reporting.settings import Settings
from tilmeld_shared.cli import Command, ServiceCommands

# A batch's events live until it is applied: the young generation has room for a part of a
# delivery instead of being walked, and promoted, every 700 allocations.
YOUNG_OBJECTS_BEFORE_COLLECTING = 20_000


def create_served_app(settings: Settings) -> FastAPI:
    """The app, in a process of its own (`serve` then freezes what start-up loaded out of the
    collector's full passes: catching up, each walked it for 55 ms, a sixth of the time)."""
    app = create_app(settings)
    gc.set_threshold(YOUNG_OBJECTS_BEFORE_COLLECTING, 10, 10)
    return app


def rebuild(settings: Settings, _: argparse.Namespace) -> int:
    events = asyncio.run(maintenance.rebuild(settings))
    print(f"reporting rebuilt from the event log: {events} events applied")
    return 0


def reconcile(settings: Settings, _: argparse.Namespace) -> int:
    drift = asyncio.run(maintenance.reconcile(settings))
    for line in drift:
        print(line)
    print(f"drift: {len(drift)}")
    return 1 if drift else 0


COMMANDS = ServiceCommands(
    Settings,
    create_served_app,
    schema=SCHEMA,
    migrations=MIGRATIONS,
    commands={
        "rebuild": Command("empty the reports and apply registration's event log again", rebuild),
        "reconcile": Command(
            "compare the reports (meetings, networks, member dialogue) with registration's counts;"
            " 1 on drift",
            reconcile,
        ),
    },
)

if __name__ == "__main__":
    COMMANDS.main()
