"""Catalog services: every rule lives here once; HTTP, CLI and seeding call these functions.

Each write runs in one transaction, adds a journal row for every state change, and an outbox row for
every change the search index must see.
"""
