"""Persistence of the catalog (Piccolo). Published rows are never edited except for their flags."""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    Array,
    Boolean,
    DoublePrecision,
    Float,
    ForeignKey,
    Integer,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

__all__ = [
    "ALL_TABLES",
    "Adoption",
    "ApiToken",
    "Asset",
    "AssetFile",
    "AssetUse",
    "AssetVersion",
    "GateDecision",
    "JournalEntry",
    "KitFeedback",
    "Label",
    "OriginReach",
    "Pilot",
    "SearchIndexState",
    "SearchLog",
    "SearchOutbox",
    "Webhook",
    "WebhookDelivery",
]


class Pilot(Table):
    """A pilot and where it stands in the stage-gate playbook (stage 1-5, active/graduated/killed)."""

    id = Serial(primary_key=True)
    slug = Varchar(length=63, unique=True)
    name = Varchar(length=200)
    team = Varchar(length=63, index=True)
    budget_owner = Varchar(length=200, null=True, default=None)
    problem = Text()
    baseline = JSONB(null=True, default=None)
    target = JSONB(null=True, default=None)
    value_per_month = JSONB(null=True, default=None)
    stage = SmallInt(default=1)
    status = Varchar(length=16, default="active", index=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow())
    graduated_at = Timestamptz(null=True, default=None)
    # The team's own gate deadlines: {"<stage>": {"days", "reason", "set_by", "set_at"}}; the settings' otherwise.
    deadlines = JSONB(default={})
    # Gate-flow state kept on every decision (the portfolio reads it instead of replaying every decision):
    # when the current stage was entered (or the pilot killed), iterates at the current gate, and the last
    # measured value of the business metric (gate 2 `after`, gate 4 `metric_value`).
    stage_entered_at = Timestamptz(null=True, default=None)
    gate_iterations = Integer(default=0)
    measured = DoublePrecision(null=True, default=None)
    measured_gate = SmallInt(null=True, default=None)
    measured_at = Timestamptz(null=True, default=None)


class GateDecision(Table):
    """One decision at a stage gate, with its evidence. Appended, never edited."""

    id = Serial(primary_key=True)
    pilot = ForeignKey(references=Pilot, null=False, on_delete=OnDelete.restrict, index=True)
    stage = SmallInt()
    decision = Varchar(length=16)
    decided_by = Varchar(length=200)
    notes = Text(default="")
    evidence_url = Varchar(length=2000, null=True, default=None)
    evidence = JSONB(default={})
    decided_at = Timestamptz(default=TimestamptzNow(), index=True)
    # When the pilot entered the stage this gate closes (the commit before, or its creation): kept so the
    # portfolio reads how long each decision took without pairing decisions.
    entered_at = Timestamptz(null=True, default=None)


class Asset(Table):
    """A reusable asset; its descriptive fields follow its highest published version."""

    id = Serial(primary_key=True)
    slug = Varchar(length=63, unique=True)
    kind = Varchar(length=32, index=True)
    title = Varchar(length=200)
    summary = Text()
    description = Text(default="")
    tags = Array(base_column=Varchar(length=50), default=list)
    owner = Varchar(length=63, index=True)
    origin_pilot = ForeignKey(references=Pilot, null=False, on_delete=OnDelete.restrict, index=True)
    lifecycle = Varchar(length=16, default="active", index=True)
    successor = Varchar(length=63, null=True, default=None)
    deprecation_reason = Text(null=True, default=None)
    deprecated_at = Timestamptz(null=True, default=None)
    latest_version = Varchar(length=100, null=True, default=None)
    # Earliest adoption record of this asset (kept on each adoption): "never adopted before T" and
    # "used before T" without reading the adoptions.
    first_adopted_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class AssetVersion(Table):
    """One published version: immutable content plus the yank flag, reason and time."""

    id = Serial(primary_key=True)
    asset = ForeignKey(references=Asset, null=False, on_delete=OnDelete.restrict, index=True)
    # "slug@version": one row per version, enforced by the database even under concurrent publishes.
    coordinate = Varchar(length=170, unique=True)
    version = Varchar(length=100)
    major = Integer()
    minor = Integer()
    patch = Integer()
    prerelease = Varchar(length=100, default="")
    manifest = JSONB()
    spec = JSONB()
    content_digest = Varchar(length=71)
    source = JSONB(null=True, default=None)
    depends_on = JSONB(default=[])
    changelog = Text(default="")
    published_by = Varchar(length=200)
    published_at = Timestamptz(default=TimestamptzNow(), index=True)
    yanked = Boolean(default=False)
    yanked_reason = Text(null=True, default=None)
    yanked_at = Timestamptz(null=True, default=None)
    yanked_by = Varchar(length=200, null=True, default=None)


class AssetFile(Table):
    """A native-format file (promptfoo config, lm-eval task, Prometheus rules, ...) stored with a version."""

    id = Serial(primary_key=True)
    version = ForeignKey(references=AssetVersion, null=False, on_delete=OnDelete.restrict, index=True)
    path = Varchar(length=500)
    content = Text()
    encoding = Varchar(length=8, default="utf-8")  # "utf-8" text, or "base64" for binary files
    size = Integer()
    sha256 = Varchar(length=64)


class Label(Table):
    """A movable name (`production`, `stable`) pointing at one version of an asset."""

    id = Serial(primary_key=True)
    asset = ForeignKey(references=Asset, null=False, on_delete=OnDelete.restrict, index=True)
    key = Varchar(length=130, unique=True)  # "slug:label"
    name = Varchar(length=63)
    version = ForeignKey(references=AssetVersion, null=False, on_delete=OnDelete.restrict)
    moved_by = Varchar(length=200)
    moved_at = Timestamptz(default=TimestamptzNow())


class Adoption(Table):
    """Pilot P adopted asset A at version V; retiring it keeps the row as history."""

    id = Serial(primary_key=True)
    asset = ForeignKey(references=Asset, null=False, on_delete=OnDelete.restrict, index=True)
    version = ForeignKey(references=AssetVersion, null=False, on_delete=OnDelete.restrict)
    pilot = ForeignKey(references=Pilot, null=False, on_delete=OnDelete.restrict, index=True)
    mode = Varchar(length=16)
    hours_saved = Float(default=0.0)
    note = Text(default="")
    adopted_by = Varchar(length=200)  # the token that recorded it (team/name), never what the request claims
    on_behalf_of = Varchar(length=200, null=True, default=None)  # a free note: the person or group it was for
    adopted_at = Timestamptz(default=TimestamptzNow(), index=True)
    # True on the first adoption of this asset by this pilot: reuse counts once per pilot and asset,
    # whatever versions it adopts later (see docs/metrics.md).
    first_for_pilot = Boolean(default=False)
    # The asset's origin pilot (it never changes), and True on the first record of this pilot adopting any
    # asset of that origin: how far each pilot's work reached, counted without DISTINCT over all adoptions.
    origin_pilot = Integer(null=True, default=None)
    first_for_origin = Boolean(default=False)
    retired_at = Timestamptz(null=True, default=None)
    retired_by = Varchar(length=200, null=True, default=None)
    retire_reason = Text(null=True, default=None)


class AssetUse(Table):
    """A stretch of time in which some pilot used an asset (at least one adoption record was active).

    Kept on each adoption and retirement, so "was it used at any time in a period" is exact for past periods
    too, and the report reads a few stopped stretches instead of every adoption.
    """

    id = Serial(primary_key=True)
    asset = ForeignKey(references=Asset, null=False, on_delete=OnDelete.restrict)  # indexed with started_at
    started_at = Timestamptz()
    stopped_at = Timestamptz(null=True, default=None, index=True)  # empty while in use


class OriginReach(Table):
    """A stretch of time in which a pilot used some asset that came from another (origin) pilot."""

    id = Serial(primary_key=True)
    # Indexed together with pilot and started_at (migration catalog_2026_11_25t02_24_00_000000).
    origin_pilot = ForeignKey(references=Pilot, null=False, on_delete=OnDelete.restrict)
    pilot = ForeignKey(references=Pilot, null=False, on_delete=OnDelete.restrict)
    started_at = Timestamptz()
    stopped_at = Timestamptz(null=True, default=None, index=True)  # empty while in use


class JournalEntry(Table):
    """Append-only record of every state change: who did what to which subject, when.

    `asset`, `pilot` and `team` say what the change concerns (the asset, the pilot: a gate's, an adoption's
    adopting pilot, a publish's origin; the team owning the subject), so history reads by any of them use an
    index instead of parsing subjects and payloads.
    """

    id = Serial(primary_key=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor = Varchar(length=200, index=True)
    action = Varchar(length=40, index=True)
    subject = Varchar(length=200, index=True)
    payload = JSONB(default={})
    asset = Varchar(length=63, null=True, default=None, index=True)
    pilot = Varchar(length=63, null=True, default=None, index=True)
    team = Varchar(length=63, null=True, default=None, index=True)


class Webhook(Table):
    """A team's subscription to change events, delivered signed (Standard Webhooks) to `url`.

    The signing secret is not stored: it is derived from the registry's webhook key and `secret_salt`, so a
    copy of the database alone cannot forge deliveries.
    """

    id = Serial(primary_key=True)
    team = Varchar(length=63, index=True)
    url = Varchar(length=2000)
    description = Text(default="")
    events = Array(base_column=Varchar(length=40), default=list)
    filters = JSONB(default={})  # {"asset", "kind", "tag", "owner"}: each optional, all must match
    secret_salt = Varchar(length=64)
    key_fingerprint = Varchar(length=64, default="")  # of the webhook key it was created with (never the key)
    enabled = Boolean(default=True)
    disabled_reason = Text(null=True, default=None)
    consecutive_failures = Integer(default=0)
    leased_until = Timestamptz(null=True, default=None)  # a delivery worker holds the subscription until then
    leased_by = Varchar(length=40, default="")  # which worker (a process's id): a dead one's lease is taken back
    created_by = Varchar(length=200)
    created_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)


class WebhookDelivery(Table):
    """One event for one subscription: written with the change, sent after commit, in order per subscription."""

    id = Serial(primary_key=True)
    webhook = ForeignKey(references=Webhook, null=False, on_delete=OnDelete.restrict, index=True)
    message_id = Varchar(length=64)  # `webhook-id`: the same when the message is redelivered
    event = Varchar(length=40)
    payload = JSONB()
    created_at = Timestamptz(default=TimestamptzNow())
    status = Varchar(length=16, default="pending", index=True)  # pending, delivered, failed (gave up)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_attempt_at = Timestamptz(null=True, default=None)
    response_status = Integer(null=True, default=None)
    last_error = Text(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)


class ApiToken(Table):
    """An API token: only its SHA-256 is stored; the clear token is shown once at creation."""

    id = Serial(primary_key=True)
    name = Varchar(length=100)
    team = Varchar(length=63, index=True)
    scopes = Array(base_column=Varchar(length=16), default=list)
    token_hash = Varchar(length=64, unique=True)
    prefix = Varchar(length=16)
    created_at = Timestamptz(default=TimestamptzNow())
    created_by = Varchar(length=200)
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class SearchOutbox(Table):
    """Changes search must see, written in the same transaction as the change, applied after commit."""

    id = Serial(primary_key=True)
    asset_slug = Varchar(length=63, index=True)
    reason = Varchar(length=40)
    created_at = Timestamptz(default=TimestamptzNow())
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    last_error = Text(null=True, default=None)
    done_at = Timestamptz(null=True, default=None, index=True)


class SearchIndexState(Table):
    """What the catalog knows of the search index it feeds (one row): the generation of the last full build,
    checked against the identity the index carries, and how far applied outbox history has been pruned."""

    id = Serial(primary_key=True)
    generation = Varchar(length=64)
    rebuilt_at = Timestamptz(default=TimestamptzNow())
    pruned_through = Integer(default=0)  # outbox ids up to this one are forgotten: older indexes cannot catch up


class SearchLog(Table):
    """One search as a user ran it: what they typed, how they filtered, how many hits (the demand report)."""

    id = Serial(primary_key=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    query = Varchar(length=500)
    normalized = Varchar(length=500, index=True)  # lower-cased, whitespace-collapsed: groups equal searches
    filters = JSONB(default={})
    hits = Integer()
    took_ms = Float()
    source = Varchar(length=16, default="api")


class KitFeedback(Table):
    """A starter-kit pick someone marked useful or not for a problem (the demand report lists the misses)."""

    id = Serial(primary_key=True)
    asset = ForeignKey(references=Asset, null=False, on_delete=OnDelete.restrict, index=True)
    problem = Text()
    useful = Boolean()
    note = Text(default="")
    given_by = Varchar(length=200)
    given_at = Timestamptz(default=TimestamptzNow(), index=True)


ALL_TABLES: tuple[type[Table], ...] = (
    Pilot,
    GateDecision,
    Asset,
    AssetVersion,
    AssetFile,
    Label,
    Adoption,
    AssetUse,
    OriginReach,
    JournalEntry,
    ApiToken,
    SearchOutbox,
    SearchIndexState,
    SearchLog,
    Webhook,
    WebhookDelivery,
    KitFeedback,
)
