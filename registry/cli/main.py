"""Entry point of the `registry` command: the group, the settings, and one module per command group."""

from __future__ import annotations

import click
from pydantic import ValidationError

from registry.cli.admin import backup, db, seed, serve, token
from registry.cli.adoptions import adopt, adoption
from registry.cli.assets import asset, deprecate, publish, version, yank
from registry.cli.common import EXIT_CODES
from registry.cli.history import diff, label, log
from registry.cli.kit import kit
from registry.cli.native import export_cmd, import_cmd
from registry.cli.pilots import pilot
from registry.cli.pull import pull
from registry.cli.reports import report
from registry.cli.searching import search
from registry.cli.webhooks import webhook
from registry.settings import Settings

__all__ = ["cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.version_option(package_name="asset-registry")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Registry of reusable AI platform assets from graduated pilots.

    Client commands (publish, asset, pilot, adopt, ...) talk HTTP to REGISTRY_URL with REGISTRY_TOKEN;
    admin commands (serve, db, seed, backup, token) act on the database in REGISTRY_DATABASE_URL or
    REGISTRY_DATA_DIR.
    """
    try:
        ctx.obj = Settings()
    except ValidationError as error:  # one line per setting, never a traceback
        lines = [f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg'].removeprefix('Value error, ')}"
                 for e in error.errors(include_url=False)]  # fmt: skip
        raise click.UsageError("invalid settings: " + "; ".join(lines)) from None


COMMANDS = (serve, db, seed, backup, token, publish, asset, version, yank, deprecate, pilot, adopt, adoption, search,
            pull, kit, report, import_cmd, export_cmd, log, diff, label, webhook)  # fmt: skip
for command in COMMANDS:
    cli.add_command(command)


def _document_exit_codes(group: click.Group) -> None:
    """Every command's --help ends with the exit codes scripts and CI rely on."""
    for command in group.commands.values():
        command.epilog = command.epilog or EXIT_CODES
        if isinstance(command, click.Group):
            _document_exit_codes(command)


_document_exit_codes(cli)

if __name__ == "__main__":
    cli()
