"""Piccolo's configuration module: the engine comes from the same settings the service reads.

`catalog.db.use_engine` replaces `DB` at run time, so tests and the service can point Piccolo (and its
migration runner) at any database without re-importing anything.
"""

from piccolo.conf.apps import AppRegistry

from catalog.db import engine_from_environment

DB = engine_from_environment()

APP_REGISTRY = AppRegistry(apps=["catalog.piccolo_app"])
