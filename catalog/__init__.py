"""The catalog: pilots, their gate decisions, published assets and their reuse (domain and persistence)."""

import os

# Piccolo resolves the engine of a table class when the class is created, through this module path.
os.environ.setdefault("PICCOLO_CONF", "catalog.piccolo_conf")
