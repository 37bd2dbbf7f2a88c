from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-25T02:24:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill the reuse report state; indexes that let the report read period slices and few rows"

# Set-based backfills of the state the previous migration added (the rules record_adoption and
# retire_adoption follow). {far} stands for "not retired".
ORIGINS = "UPDATE adoption SET origin_pilot = (SELECT a.origin_pilot FROM asset a WHERE a.id = adoption.asset)"
FIRST_FOR_ORIGIN = (
    "UPDATE adoption SET first_for_origin = (id = (SELECT MIN(a2.id) FROM adoption a2 "
    "WHERE a2.origin_pilot = adoption.origin_pilot AND a2.pilot = adoption.pilot))"
)
FIRST_ADOPTED = "UPDATE asset SET first_adopted_at = (SELECT MIN(ad.adopted_at) FROM adoption ad WHERE ad.asset = asset.id)"
# Stretches of use: adoption records as intervals [adopted_at, retired_at), merged where they overlap
# (a record starting after every earlier one ended begins a new stretch).
STRETCHES = """
INSERT INTO {table} ({keys}, started_at, stopped_at)
SELECT {keys}, MIN(adopted_at), CASE WHEN MAX(ends) = {far} THEN NULL ELSE MAX(ends) END
FROM (
  SELECT {keys}, adopted_at, ends, SUM(fresh) OVER (PARTITION BY {keys} ORDER BY adopted_at, id ROWS UNBOUNDED PRECEDING) AS n
  FROM (
    SELECT id, {keys}, adopted_at, COALESCE(retired_at, {far}) AS ends,
      CASE WHEN MAX(COALESCE(retired_at, {far})) OVER (PARTITION BY {keys} ORDER BY adopted_at, id
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) >= adopted_at THEN 0 ELSE 1 END AS fresh
    FROM adoption
  ) records
) numbered
GROUP BY {keys}, n
"""
USES = [("asset_use", "asset"), ("origin_reach", "origin_pilot, pilot")]
FAR = {"postgres": "TIMESTAMPTZ '9999-12-31 00:00:00+00'", "sqlite": "'9999-12-31 00:00:00+00:00'"}

# Partial indexes: each holds only the rows one part of the report reads. PostgreSQL keeps the other
# columns it needs in the index (INCLUDE) so it never visits the table; SQLite gets them as key columns.
INDEXES = [
    # Counted adoptions of a period: per asset, per adopting pilot, per month.
    (
        "adoption_first_period_cover",
        "adoption (adopted_at) INCLUDE (asset, pilot, hours_saved) WHERE first_for_pilot",
        "adoption (adopted_at, asset, pilot, hours_saved) WHERE first_for_pilot",
    ),
    # A pilot's records of one origin's assets (is it in use, is it the first).
    ("adoption_origin_pilot", "adoption (origin_pilot, pilot)", None),
    # Records of an asset active at a time (at-risk adoptions of deprecated assets); replaces (asset, adopted_at).
    (
        "adoption_asset_cover",
        "adoption (asset, adopted_at) INCLUDE (id, retired_at)",
        "adoption (asset, adopted_at, retired_at)",
    ),
    # Searches without results in a period (unmet demand).
    (
        "search_log_missed",
        "search_log (at) INCLUDE (normalized) WHERE hits = 0",
        "search_log (at, normalized) WHERE hits = 0",
    ),
    # Stretches of use that ended: the few an "in use during the period" check has to look at.
    ("asset_use_span", "asset_use (asset, started_at) INCLUDE (stopped_at)", "asset_use (asset, started_at, stopped_at)"),
    (
        "origin_reach_span",
        "origin_reach (origin_pilot, pilot, started_at) INCLUDE (stopped_at)",
        "origin_reach (origin_pilot, pilot, started_at, stopped_at)",
    ),
    # Pilots reached by each origin pilot's work.
    ("adoption_origin_reach", "adoption (origin_pilot, adopted_at) WHERE first_for_origin", None),
    # Who uses a version (at-risk adoptions of yanked versions).
    (
        "adoption_version",
        "adoption (version) INCLUDE (id, asset, adopted_at, retired_at)",
        "adoption (version, asset, adopted_at, retired_at)",
    ),
    # Stale assets: never adopted (partial), or adopted only after a past period's end.
    (
        "asset_never_adopted",
        "asset (created_at) INCLUDE (slug) WHERE first_adopted_at IS NULL",
        "asset (created_at, slug) WHERE first_adopted_at IS NULL",
    ),
    ("asset_first_adopted_at", "asset (first_adopted_at)", None),
    # Asset counts per origin pilot, kind and owner, read in group order without visiting the table.
    (
        "asset_groups",
        "asset (origin_pilot, kind, owner) INCLUDE (id, created_at, first_adopted_at)",
        "asset (origin_pilot, kind, owner, id, created_at, first_adopted_at)",
    ),
    ("asset_version_yanked_at", "asset_version (yanked_at) WHERE yanked_at IS NOT NULL", None),
    ("asset_deprecated_at", "asset (deprecated_at) WHERE deprecated_at IS NOT NULL", None),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def backfill_and_index() -> None:
        from piccolo.apps.migrations.tables import Migration

        db = Migration._meta.db
        postgres = isinstance(db, PostgresEngine)
        await db.run_ddl(ORIGINS)
        for name, postgres_sql, sqlite_sql in INDEXES:
            await db.run_ddl(
                f"CREATE INDEX IF NOT EXISTS {name} ON {postgres_sql if postgres else sqlite_sql or postgres_sql}"
            )
        await db.run_ddl(FIRST_FOR_ORIGIN)
        await db.run_ddl(FIRST_ADOPTED)
        for table, keys in USES:
            await db.run_ddl(STRETCHES.format(table=table, keys=keys, far=FAR["postgres" if postgres else "sqlite"]))
        # Superseded by the covering indexes above.
        for old in ("adoption_first_period", "adoption_asset_period", "search_log_hits_at"):
            await db.run_ddl(f"DROP INDEX IF EXISTS {old}")

    manager.add_raw(backfill_and_index)

    return manager
