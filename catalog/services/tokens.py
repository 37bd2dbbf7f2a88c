"""API tokens: random, shown once, stored only as a SHA-256 hash, bound to a team and scopes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from piccolo.query.methods.select import Select

from catalog.errors import Conflict, NotFound
from catalog.schemas import Actor, NewToken, TokenOut, TokenRequest, utc
from catalog.services.journal import now, record, write_transaction
from catalog.statements import statement
from catalog.tables import ApiToken
from catalog.writer import writes

__all__ = ["authenticate", "bootstrap_admin", "create_token", "hash_token", "list_tokens", "revoke_token"]

TOKEN_PREFIX = "reg_"  # noqa: S105 (a marker that makes leaked tokens easy to scan for, not a secret)
BOOTSTRAP_NAME = "bootstrap-admin"


def hash_token(token: str) -> str:
    """Tokens carry 256 random bits, so one SHA-256 is enough (no slow KDF needed, as for passwords)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: row[k] for k in ("id", "name", "team", "prefix", "created_by")},
        "scopes": list(row["scopes"]),
        "created_at": utc(row["created_at"]),
        "last_used_at": utc(row["last_used_at"]) if row["last_used_at"] else None,
        "revoked_at": utc(row["revoked_at"]) if row["revoked_at"] else None,
    }


async def _store(token: str, request: TokenRequest, actor: Actor, at: datetime) -> dict[str, Any]:
    row = ApiToken(
        name=request.name,
        team=request.team,
        scopes=sorted(set(request.scopes)),
        token_hash=hash_token(token),
        prefix=token[: len(TOKEN_PREFIX) + 6],
        created_at=at,
        created_by=actor.label,
    )
    token_id = (await ApiToken.insert(row))[0]["id"]
    await record(
        "token.create",
        f"token:{token_id}",
        actor,
        {"name": request.name, "team": request.team, "scopes": row.scopes},
        at,
        team=request.team,
    )
    return await _row(token_id)


async def _row(token_id: int) -> dict[str, Any]:
    row = await ApiToken.select().where(ApiToken.id == token_id).first()
    if row is None:
        raise NotFound(f"no token has id {token_id}", code="token-not-found")
    return dict(row)


@writes
async def create_token(request: TokenRequest, actor: Actor, *, at: datetime | None = None) -> NewToken:
    """Make a token; the clear value is in the result and nowhere else."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with write_transaction():
        row = await _store(token, request, actor, at or now())
    return NewToken(**_out(row), token=token)


async def bootstrap_admin(given: str | None, actor: Actor) -> str | None:
    """Install an admin token on a catalog without tokens: the given one, or a new one returned to print once."""
    async with write_transaction():
        if given:
            if await ApiToken.exists().where(ApiToken.token_hash == hash_token(given)):
                return None
        elif await ApiToken.exists():
            return None
        token = given or TOKEN_PREFIX + secrets.token_urlsafe(32)
        await _store(token, TokenRequest(name=BOOTSTRAP_NAME, team="platform", scopes=["admin"]), actor, now())
    return None if given else token


@writes
async def revoke_token(token_id: int, actor: Actor, *, at: datetime | None = None) -> TokenOut:
    """Revoke a token; it stops working at once and stays listed for audit."""
    at = at or now()
    async with write_transaction():
        row = await _row(token_id)
        if row["revoked_at"] is not None:
            raise Conflict(f"token {token_id} ({row['name']}) is already revoked", code="already-revoked")
        await ApiToken.update({ApiToken.revoked_at: at}).where(ApiToken.id == token_id)
        await record(
            "token.revoke", f"token:{token_id}", actor, {"name": row["name"], "team": row["team"]}, at, team=row["team"]
        )
        row = await _row(token_id)
    return TokenOut(**_out(row))


async def list_tokens(*, team: str | None = None) -> list[TokenOut]:
    query = ApiToken.select().order_by(ApiToken.id)
    if team:
        query = query.where(ApiToken.team == team)
    return [TokenOut(**_out(dict(r))) for r in await query]


@statement
def _live_token(token_hash: str) -> Select[Any]:
    return (
        ApiToken.select(ApiToken.id, ApiToken.name, ApiToken.team, ApiToken.scopes, ApiToken.last_used_at)
        .where((ApiToken.token_hash == token_hash) & ApiToken.revoked_at.is_null())
        .limit(1)
    )


@writes
async def authenticate(token: str) -> Actor | None:
    """The actor a presented token stands for, or None when it is unknown or revoked."""
    row = await _live_token.first(hash_token(token))
    if row is None:
        return None
    at = now()
    last = row["last_used_at"]
    if last is None or (at - utc(last)).total_seconds() > 60:  # at most one write a minute per token
        await ApiToken.update({ApiToken.last_used_at: at}).where(ApiToken.id == row["id"])
    return Actor(name=row["name"], team=row["team"], scopes=frozenset(row["scopes"]))
