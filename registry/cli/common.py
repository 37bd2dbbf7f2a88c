"""What every command group shares: consoles, settings, admin commands' database access, and reading input
files and KEY=VALUE pairs so that bad input is one line naming the file, line and column, never a traceback."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import warnings
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlparse

import asyncpg
import click
import yaml
from piccolo.apps.migrations.tables import Migration
from pydantic import BaseModel, ValidationError
from rich.console import Console

from catalog.db import make_engine, migrate, sqlite_path, use_engine
from catalog.errors import CatalogError
from catalog.schemas import problems_from
from registry.cli.client import describe_problem
from registry.settings import Settings

__all__ = [
    "EXIT_CODES",
    "coordinate",
    "database_label",
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
    "validated",
    "wide",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
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


def database_label(settings: Settings) -> str:
    """Which database the settings name, for people: the SQLite file, or the URL without its password."""
    if sqlite := _sqlite_file(settings):
        return str(sqlite)
    url = str(settings.database_url)
    password = urlparse(url).password
    return url.replace(f":{password}@", ":***@") if password else url


def _sqlite_file(settings: Settings) -> Path | None:
    if not settings.database_url:
        return sqlite_path(settings.data_dir).resolve()
    url = urlparse(settings.database_url)
    return Path(url.path).resolve() if url.scheme == "sqlite" else None


async def _has_catalog(settings: Settings) -> bool:
    sqlite = _sqlite_file(settings)
    if sqlite is not None and not sqlite.is_file():  # checked before connecting: connecting creates the file
        return False
    use_engine(make_engine(settings.database_url, settings.data_dir))
    return bool(await Migration.table_exists())


def on_database(settings: Settings, work: Awaitable[T], *, create: bool = False) -> T:
    """Run an admin command against the configured database, saying which on stderr.

    Only the commands that make a catalog (`db migrate`, `backup restore`) pass `create`; the others refuse a
    database without one, so a command run in the wrong folder fails instead of acting on a new empty catalog.
    """
    label = database_label(settings)
    err.print(f"database   {label}", markup=False)

    async def run() -> T:
        if not create and not await _has_catalog(settings):
            raise click.ClickException(
                f"no registry catalog at {label}. Run this where the registry keeps its data, or point to it with "
                "REGISTRY_DATA_DIR (the folder holding registry.sqlite) or REGISTRY_DATABASE_URL; "
                "`registry db migrate` creates a new catalog"
            )
        await migrate(make_engine(settings.database_url, settings.data_dir))
        return await work

    try:
        with warnings.catch_warnings():  # Piccolo warns before the error it then raises: the error says it all
            warnings.simplefilter("ignore")
            return asyncio.run(run())
    except CatalogError as error:
        raise click.ClickException(
            describe_problem({"detail": error.detail, "errors": [p.as_dict() for p in error.problems]})
        ) from error
    except (OSError, asyncpg.PostgresError) as error:
        raise click.ClickException(f"cannot use the database at {label}: {error}") from None
    finally:
        if inspect.iscoroutine(work) and inspect.getcoroutinestate(work) == inspect.CORO_CREATED:
            work.close()  # the command stopped before its work began


def validated(model: type[M], data: dict[str, Any]) -> M:
    """Options checked by the catalog's own model; what is wrong is one line per field, not a traceback."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [{"pointer": p.pointer, "detail": p.detail, "fix": p.fix} for p in problems_from(error)]
        raise click.ClickException(describe_problem({"detail": "invalid options", "errors": problems})) from None


def search_backend(settings: Settings) -> Any:
    from registry.workers.indexing import make_backend

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
