from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-02T10:26:38:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill the pilots' gate-flow state from their gate decisions"

# The rules decide_gate follows: the current stage was entered at the last commit (a kill ends the pilot
# there), else at creation; iterates are those at the current stage; the last measure is gate 4's
# `metric_value` when committed, else gate 2's `after`. {number} reads a number out of the evidence JSON.
NUMBER = {
    "postgres": "CAST(g.evidence->>'{key}' AS float8)",
    "sqlite": "json_extract(g.evidence, '$.{key}')",
}
BACKFILL = """
UPDATE pilot SET
  stage_entered_at = COALESCE(
    (SELECT MAX(g.decided_at) FROM gate_decision g WHERE g.pilot = pilot.id AND g.decision IN ('commit', 'kill')),
    created_at),
  gate_iterations = (
    SELECT COUNT(*) FROM gate_decision g WHERE g.pilot = pilot.id AND g.decision = 'iterate' AND g.stage = pilot.stage),
  measured = COALESCE(
    (SELECT {metric_value} FROM gate_decision g WHERE g.pilot = pilot.id AND g.stage = 4 AND g.decision = 'commit'),
    (SELECT {after} FROM gate_decision g WHERE g.pilot = pilot.id AND g.stage = 2 AND g.decision = 'commit')),
  measured_gate = CASE
    WHEN (SELECT {metric_value} FROM gate_decision g
          WHERE g.pilot = pilot.id AND g.stage = 4 AND g.decision = 'commit') IS NOT NULL THEN 4
    WHEN (SELECT {after} FROM gate_decision g
          WHERE g.pilot = pilot.id AND g.stage = 2 AND g.decision = 'commit') IS NOT NULL THEN 2 END,
  measured_at = (SELECT MAX(g.decided_at) FROM gate_decision g
                 WHERE g.pilot = pilot.id AND g.decision = 'commit' AND g.stage IN (2, 4))
"""


def backfill_sql(postgres: bool) -> str:
    """The backfill in the database's dialect."""
    number = NUMBER["postgres" if postgres else "sqlite"]
    return BACKFILL.format(
        metric_value=number.format(key="metric_value"), after=number.format(key="after")
    )


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def backfill() -> None:
        from piccolo.apps.migrations.tables import Migration

        db = Migration._meta.db
        await db.run_ddl(backfill_sql(isinstance(db, PostgresEngine)))

    manager.add_raw(backfill)

    return manager
