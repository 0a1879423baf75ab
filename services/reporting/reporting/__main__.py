"""`python -m reporting serve | migrate | rebuild | reconcile`."""

from __future__ import annotations

import argparse
import asyncio

from reporting import maintenance
from reporting.main import MIGRATIONS, SCHEMA, create_app
from reporting.settings import Settings
from tilmeld_shared.cli import Command, ServiceCommands


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
    create_app,
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
