"""What every command group shares: consoles, settings, admin commands' database access, and reading input
files and KEY=VALUE pairs so that bad input is one line naming the file, line and column, never a traceback."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar, cast

import click
import yaml
from rich.console import Console

from catalog.db import make_engine, migrate
from catalog.errors import CatalogError
from registry.cli.client import describe_problem
from registry.settings import Settings

__all__ = [
    "EXIT_CODES",
    "coordinate",
    "done",
    "err",
    "json_output",
    "on_database",
    "out",
    "pairs",
    "print_json",
    "read_data_file",
    "search_backend",
    "settings_of",
    "wide",
]

T = TypeVar("T")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
EXIT_CODES = "Exit codes: 0 ok, 1 the registry refused it or some items failed, 2 usage (a bad option or argument)."


def settings_of(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def wide() -> Console:
    """Tables for a terminal, or whole values (slugs never cut) when the output is piped."""
    return out if out.is_terminal else Console(highlight=False, width=250)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


_AS_JSON: ContextVar[bool] = ContextVar("as_json", default=False)
F = TypeVar("F", bound=Callable[..., Any])


def json_output(command: F) -> F:
    """Give an action command `--json`: it then prints the registry's answer instead of a sentence."""

    @functools.wraps(command)
    def run(*args: Any, as_json: bool = False, **kwargs: Any) -> Any:
        token = _AS_JSON.set(as_json)
        try:
            return command(*args, **kwargs)
        finally:
            _AS_JSON.reset(token)

    option = click.option("--json", "as_json", is_flag=True, help="print the registry's answer as JSON")
    return cast(F, option(run))


def done(result: Any, sentence: str) -> None:
    """What an action command says when it worked: a sentence, or the answer as JSON under --json."""
    if _AS_JSON.get():
        print_json(result)
    else:
        out.print(sentence, markup=False)


def on_database(settings: Settings, work: Awaitable[T]) -> T:
    """Run an admin command against the configured database (migrated first, so it always has its tables)."""

    async def run() -> T:
        await migrate(make_engine(settings.database_url, settings.data_dir))
        return await work

    try:
        return asyncio.run(run())
    except CatalogError as error:
        raise click.ClickException(
            describe_problem({"detail": error.detail, "errors": [p.as_dict() for p in error.problems]})
        ) from error


def search_backend(settings: Settings) -> Any:
    from registry.indexing import make_backend

    return make_backend(settings)


def read_data_file(path: Path, *, expect: type = dict, what: str = "file") -> Any:
    """A YAML or JSON file as data; any problem is one line: `FILE:LINE:COLUMN: what is wrong`."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{path}: not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    except OSError as error:
        raise click.ClickException(f"{path}: cannot read it ({error.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise click.ClickException(f"{where}: not valid YAML or JSON: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise click.ClickException(f"{path}: not valid YAML or JSON: {error}") from None
    if not isinstance(data, expect):
        found = "empty" if data is None else f"a {type(data).__name__}"
        shape = "a mapping of keys to values" if expect is dict else f"a {expect.__name__}"
        raise click.ClickException(f"{path}: the {what} must be {shape}, and this one is {found}")
    return data


def coordinate(target: str) -> tuple[str, str]:
    """SLUG@VERSION, both parts required (a usage error, exit 2, otherwise)."""
    slug, at, version = target.partition("@")
    if not slug or not at or not version:
        raise click.BadParameter("write SLUG@VERSION, e.g. claims-triage-prompt@1.1.0", param_hint="SLUG@VERSION")
    return slug, version


def pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    """KEY=VALUE options as text, exactly as typed (`yes` stays "yes", `1.0` stays "1.0")."""
    found: dict[str, str] = {}
    for pair in values:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint=option)
        found[key.strip()] = value
    return found
