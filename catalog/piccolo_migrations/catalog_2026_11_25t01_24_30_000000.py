from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T01:24:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill when each pilot stopped using each asset; index for first adoptions per pilot"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def backfill_and_index():
        from piccolo.apps.migrations.tables import Migration

        db = Migration._meta.db
        await db.run_ddl(
            "UPDATE adoption SET pair_retired_at = CASE WHEN EXISTS (SELECT 1 FROM adoption a2 "
            "WHERE a2.pilot = adoption.pilot AND a2.asset = adoption.asset AND a2.retired_at IS NULL) THEN NULL "
            "ELSE (SELECT MAX(a3.retired_at) FROM adoption a3 WHERE a3.pilot = adoption.pilot "
            "AND a3.asset = adoption.asset) END WHERE first_for_pilot"
        )
        await db.run_ddl("CREATE INDEX IF NOT EXISTS adoption_pilot_period ON adoption (pilot, adopted_at)")

    manager.add_raw(backfill_and_index)

    return manager
