from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T02:36:48:695122"
VERSION = "1.38.0"
DESCRIPTION = "pair_retired_at gives way to stretches of use and adoption records"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="catalog", description=DESCRIPTION
    )

    manager.drop_column(
        table_class_name="Adoption",
        tablename="adoption",
        column_name="pair_retired_at",
        db_column_name="pair_retired_at",
        schema=None,
    )

    return manager
