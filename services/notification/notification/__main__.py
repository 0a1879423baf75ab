"""`python -m notification serve | migrate`."""

from __future__ import annotations

from notification.main import MIGRATIONS, SCHEMA, create_app
from notification.settings import Settings
from tilmeld_shared.cli import ServiceCommands

COMMANDS = ServiceCommands(Settings, create_app, schema=SCHEMA, migrations=MIGRATIONS)

if __name__ == "__main__":
    COMMANDS.main()
