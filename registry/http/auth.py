"""Bearer-token authentication and scope checks; team ownership is checked by the catalog services."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from catalog.schemas import Actor
from catalog.services.tokens import authenticate

__all__ = ["provide_actor", "token_guard"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="registry"'}


def token_guard(require_auth_for_reads: bool) -> Guard:
    """One guard for every route: writes name a scope in `opt`; reads are open unless configured otherwise."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if handler.opt.get("public") or connection.scope["path"].startswith("/schema"):
            return
        scope: str | None = handler.opt.get("scope")
        header = connection.headers.get("authorization")
        if header is None and scope is None and not require_auth_for_reads:
            return
        if header is None:
            raise NotAuthorizedException(
                detail="this request needs a token: send `Authorization: Bearer <token>` "
                "(create one with `registry token create`)",
                headers=_CHALLENGE,
            )
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException(detail="the Authorization header must be `Bearer <token>`", headers=_CHALLENGE)
        actor = await authenticate(token.strip())
        if actor is None:
            raise NotAuthorizedException(detail="the token is unknown or revoked", headers=_CHALLENGE)
        if scope is not None and scope not in actor.scopes and not actor.is_admin:
            raise PermissionDeniedException(
                detail=f"this token (team {actor.team}) has scopes {sorted(actor.scopes)}; "
                f"this request needs the `{scope}` scope"
            )
        connection.state.actor = actor

    return guard


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """The authenticated actor; only injected into write handlers, which the guard has authenticated."""
    actor: Actor = request.state.actor
    return actor
