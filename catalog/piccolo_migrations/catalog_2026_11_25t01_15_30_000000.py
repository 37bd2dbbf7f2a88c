from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T01:15:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill first adoptions; indexes for the reuse report"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def backfill_and_index():
        from piccolo.apps.migrations.tables import Migration

        db = Migration._meta.db
        await db.run_ddl(
            "UPDATE adoption SET first_for_pilot = (id = (SELECT MIN(a2.id) FROM adoption a2 "
            "WHERE a2.pilot = adoption.pilot AND a2.asset = adoption.asset))"
        )
        # The reuse report reads adoptions by period, and searches without results by period.
        await db.run_ddl("CREATE INDEX IF NOT EXISTS adoption_first_period ON adoption (first_for_pilot, adopted_at)")
        await db.run_ddl("CREATE INDEX IF NOT EXISTS adoption_asset_period ON adoption (asset, adopted_at)")
        await db.run_ddl("CREATE INDEX IF NOT EXISTS search_log_hits_at ON search_log (hits, at)")
        await db.run_ddl("CREATE INDEX IF NOT EXISTS asset_version_asset_published ON asset_version (asset, published_at)")

    manager.add_raw(backfill_and_index)

    return manager
