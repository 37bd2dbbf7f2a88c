"""Is the database reachable? Readiness probes ask this."""

from __future__ import annotations

from catalog.tables import Pilot

__all__ = ["database_ready"]


async def database_ready() -> str | None:
    """None when a query round-trips, else the error in one line."""
    try:
        await Pilot.count()
    except Exception as err:  # any failure means not ready; the reason is reported
        return f"{type(err).__name__}: {err}"[:300]
    return None
