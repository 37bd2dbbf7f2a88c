"""Domain errors: each carries a human `detail`, a stable `code` and, where there is one, the field at fault.

The HTTP layer maps these to RFC 9457 problem details in exactly one place (`registry/http/errors.py`);
nothing here knows about HTTP status codes beyond the `status` hint each class carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CatalogError",
    "ConcurrentWrite",
    "Conflict",
    "FieldProblem",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
]


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with the input: where (a JSON pointer such as `/spec/variables`), what, how to fix."""

    pointer: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        out = {"pointer": self.pointer, "detail": self.detail}
        if self.fix:
            out["fix"] = self.fix
        return out


@dataclass
class CatalogError(Exception):
    """Base of every rule the catalog enforces; `status` is the HTTP status it maps to."""

    detail: str
    code: str = "catalog-error"
    title: str = "Catalog error"
    status: int = 400
    problems: list[FieldProblem] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def as_problem(self) -> dict[str, object]:
        """The problem-details body of this error (RFC 9457 members plus `code` and `errors`)."""
        body: dict[str, object] = {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.problems:
            body["errors"] = [p.as_dict() for p in self.problems]
        return body | self.extra


class NotFound(CatalogError):
    """A named pilot, asset, version, adoption or token does not exist."""

    def __init__(self, detail: str, *, code: str = "not-found", pointer: str | None = None) -> None:
        problems = [FieldProblem(pointer, detail, "check the name against the list it comes from")] if pointer else []
        super().__init__(detail=detail, code=code, title="Not found", status=404, problems=problems)


class Conflict(CatalogError):
    """The request is well-formed but clashes with the catalog's current state."""

    def __init__(self, detail: str, *, code: str = "conflict", title: str = "Conflict", **extra: object) -> None:
        super().__init__(detail=detail, code=code, title=title, status=409, extra=dict(extra))


class ConcurrentWrite(Conflict):
    """Another request took the same unique key first; this one stored nothing and may be retried."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, code="concurrent-write", title="Concurrent write")


class InvalidInput(CatalogError):
    """The input breaks a rule; every problem names its field and says how to fix it."""

    def __init__(self, detail: str, problems: list[FieldProblem], *, code: str = "invalid-input") -> None:
        super().__init__(detail=detail, code=code, title="Invalid input", status=422, problems=problems)


class PermissionDenied(CatalogError):
    """The caller's token may not act on this team's pilots or assets."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, code="forbidden", title="Forbidden", status=403)
