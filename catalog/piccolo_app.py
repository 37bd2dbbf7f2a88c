"""Piccolo app definition: where the catalog's tables and migrations live."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="catalog",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=table_finder(modules=["catalog.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
