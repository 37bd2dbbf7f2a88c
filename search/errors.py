"""Search errors: the backend is unreachable, or rejected what was asked of it."""

from __future__ import annotations

__all__ = ["SearchError", "SearchUnavailable"]


class SearchError(Exception):
    """A search backend failed; `detail` says how, in words a person can act on."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class SearchUnavailable(SearchError):
    """The backend cannot be reached or is not ready; the catalog keeps working and sync retries later."""
