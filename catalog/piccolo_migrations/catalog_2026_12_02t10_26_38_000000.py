from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-02T10:26:38:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill the pilots' gate-flow state, and each decision's stage entry, from the gate decisions"

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


# Each decision closes the gate of the stage the pilot entered at the commit before it (or at its creation).
ENTERED = """
UPDATE gate_decision SET entered_at = COALESCE(
  (SELECT c.decided_at FROM gate_decision c
   WHERE c.pilot = gate_decision.pilot AND c.stage = gate_decision.stage - 1 AND c.decision = 'commit'),
  (SELECT p.created_at FROM pilot p WHERE p.id = gate_decision.pilot))
"""


def backfill_statements(postgres: bool) -> list[str]:
    """The backfill in the database's dialect, one statement each."""
    number = NUMBER["postgres" if postgres else "sqlite"]
    pilots = BACKFILL.format(metric_value=number.format(key="metric_value"), after=number.format(key="after"))
    return [pilots, ENTERED]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def backfill() -> None:
        from piccolo.apps.migrations.tables import Migration

        db = Migration._meta.db
        for statement in backfill_statements(isinstance(db, PostgresEngine)):
            await db.run_ddl(statement)

    manager.add_raw(backfill)

    return manager
