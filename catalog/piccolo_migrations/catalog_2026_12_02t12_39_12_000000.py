from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-02T12:39:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill which asset, pilot and team each journal entry concerns, from its subject and payload"

# Subjects are `asset:SLUG`, `asset:SLUG@VERSION`, `pilot:SLUG` or `token:ID`; adoptions name their pilot in
# the payload, publishes concern the asset's origin pilot, tokens their team.
DIALECT = {
    "postgres": {
        "asset": "split_part(substr(subject, 7), '@', 1)",
        "pilot_of_payload": "payload->>'pilot'",
        "team_of_payload": "payload->>'team'",
    },
    "sqlite": {
        "asset": "CASE WHEN instr(subject, '@') > 0 THEN substr(subject, 7, instr(subject, '@') - 7) "
        "ELSE substr(subject, 7) END",
        "pilot_of_payload": "json_extract(payload, '$.pilot')",
        "team_of_payload": "json_extract(payload, '$.team')",
    },
}
STATEMENTS = [
    "UPDATE journal_entry SET asset = {asset} WHERE subject LIKE 'asset:%'",
    "UPDATE journal_entry SET pilot = substr(subject, 7) WHERE subject LIKE 'pilot:%'",
    "UPDATE journal_entry SET pilot = {pilot_of_payload} WHERE action = 'adoption.record'",
    "UPDATE journal_entry SET pilot = (SELECT p.slug FROM adoption a JOIN pilot p ON p.id = a.pilot "
    "WHERE a.id = CAST({adoption} AS integer)) WHERE action = 'adoption.retire'",
    "UPDATE journal_entry SET pilot = (SELECT p.slug FROM asset s JOIN pilot p ON p.id = s.origin_pilot "
    "WHERE s.slug = journal_entry.asset) WHERE action = 'asset.publish'",
    "UPDATE journal_entry SET team = (SELECT s.owner FROM asset s WHERE s.slug = journal_entry.asset) "
    "WHERE asset IS NOT NULL",
    "UPDATE journal_entry SET team = (SELECT p.team FROM pilot p WHERE p.slug = journal_entry.pilot) "
    "WHERE subject LIKE 'pilot:%'",
    "UPDATE journal_entry SET team = {team_of_payload} WHERE subject LIKE 'token:%'",
]


def backfill_statements(postgres: bool) -> list[str]:
    """The backfill in the database's dialect, one statement each."""
    words = dict(DIALECT["postgres" if postgres else "sqlite"])
    words["adoption"] = "payload->>'adoption'" if postgres else "json_extract(payload, '$.adoption')"
    return [statement.format(**words) for statement in STATEMENTS]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def backfill() -> None:
        from piccolo.apps.migrations.tables import Migration

        db = Migration._meta.db
        for statement in backfill_statements(isinstance(db, PostgresEngine)):
            await db.run_ddl(statement)

    manager.add_raw(backfill)

    return manager
