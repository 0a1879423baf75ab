"""`python -m <service> serve | migrate | …`: the command line every service shares.

A service's `__main__` hands `ServiceCommands` its Settings class, app factory and migrations,
and the commands of its own. The settings are read from the environment only once the
arguments are understood, so `--help` works anywhere; a setting that is missing or refused is
reported by the variable's name, without a traceback and without echoing any value.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from tilmeld_shared.db import migrate
from tilmeld_shared.observability import configure_logging, serve_metrics
from tilmeld_shared.serving import serve
from tilmeld_shared.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


@dataclass(frozen=True)
class Command(Generic[S]):
    """A command: its help line, what it runs (returning the exit status), its own arguments."""

    help: str
    run: Callable[[S, argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


@dataclass(frozen=True)
class ServiceCommands(Generic[S]):
    """`serve` and `migrate` for a service, plus `commands` of its own."""

    settings: type[S]
    create_app: Callable[[S], Any]
    schema: str
    migrations: Path
    commands: Mapping[str, Command[S]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.settings.service

    def all_commands(self) -> dict[str, Command[S]]:
        return {
            "serve": Command("serve the HTTP API (and what runs beside it)", self._serve),
            "migrate": Command("apply the schema's migrations not yet applied", self._migrate),
            **self.commands,
        }

    def parser(self) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(
            prog=self.name,
            description=f"The Tilmeld {self.name} service. Settings come from the environment "
            "(see docs/configuration.md).",
        )
        subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
        for name, command in self.all_commands().items():
            sub = subparsers.add_parser(name, help=command.help, description=command.help)
            if command.arguments is not None:
                command.arguments(sub)
        return parser

    def main(self, argv: Sequence[str] | None = None) -> None:
        """Parse the arguments, read the settings, run the command, exit with its status."""
        parser = self.parser()
        args = parser.parse_args(argv)
        try:
            settings = self.settings()  # filled from the environment
        except ValidationError as error:
            problems = "\n".join(
                f"  {problem}" for problem in settings_problems(self.settings, error)
            )
            parser.exit(2, f"{self.name}: the settings are not usable:\n{problems}\n")
        configure_logging(settings.log_level)
        sys.exit(self.all_commands()[args.command].run(settings, args))

    def _serve(self, settings: S, _: argparse.Namespace) -> int:
        serve_metrics(host=settings.host, port=settings.metrics_port)
        app = self.create_app(settings)
        # What start-up loaded (modules, models, the app) lives as long as the process: frozen
        # out of the collector, a full collection no longer walks it in the middle of a request.
        gc.collect()
        gc.freeze()
        serve(app, settings)
        return 0

    def _migrate(self, settings: S, _: argparse.Namespace) -> int:
        applied = asyncio.run(
            migrate(
                settings.migration_database_url or settings.database_url,
                schema=self.schema,
                migrations_dir=self.migrations,
            )
        )
        print(f"{self.name}: {len(applied)} migration(s) applied")
        return 0


def settings_problems(settings: type[ServiceSettings], error: ValidationError) -> list[str]:
    """Each problem named by its variables (never with the value given, which may be secret)."""
    fields = {
        variable: name
        for name in settings.model_fields
        for variable in settings.environment_names(name)
    }
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "missing":
            message = "not set"
        located = str(problem["loc"][0]).upper() if problem["loc"] else ""
        name = fields.get(located, located.lower())
        problems.append(f"{settings.variable(name)}: {message}" if located else message)
    return problems
