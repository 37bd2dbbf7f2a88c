"""Pydantic models of what users send and get back: the manifest (four kinds), pilots, gates, adoptions.

Every validator message says what is wrong *and* how to fix it; `problems_from` turns a pydantic error
into field problems with JSON pointers, so the API and the CLI report the same words.
"""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

import jinja2
import jinja2.meta
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from catalog.errors import FieldProblem, InvalidInput
from catalog.inputs import single_line
from catalog.versions import InvalidVersion, VersionRange, parse_version

__all__ = [
    "KINDS",
    "SCOPES",
    "Actor",
    "AdoptionRequest",
    "AttachedFile",
    "EvalHarnessSpec",
    "GateRequest",
    "Kind",
    "Manifest",
    "MonitorSpec",
    "PilotRequest",
    "PilotUpdate",
    "PromptSpec",
    "RetrievalPipelineSpec",
    "parse_manifest",
    "problems_from",
    "template_variables",
]

Kind = Literal["eval_harness", "prompt", "retrieval_pipeline", "monitor"]
KINDS: tuple[Kind, ...] = get_args(Kind)
Scope = Literal["read", "publish", "adopt", "pilots", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)

# `\Z`, not `$`: `$` also matches before a trailing newline.
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}\Z")
_TAG = re.compile(r"[a-z0-9][a-z0-9+.#-]{0,49}\Z")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DURATION = re.compile(r"([0-9]+(ms|s|m|h|d|w|y))+\Z")
_PLACEHOLDERS = {"tbd", "todo", "n/a", "na", "none", "-", "...", "tba", "later", "unknown"}


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            f"{value!r} is not a valid slug: use 2-63 lowercase letters, digits and hyphens, "
            "starting with a letter or digit, for example 'claims-triage-prompt'"
        )
    return value


def _semver(value: str) -> str:
    if len(value) > 100:
        raise ValueError(f"a version is at most 100 characters; this one has {len(value)}")
    try:
        parse_version(value)
    except InvalidVersion as err:
        raise ValueError(str(err)) from err
    return value.strip()


def _range(value: str) -> str:
    if len(value) > 100:
        raise ValueError(f"a version range is at most 100 characters; this one has {len(value)}")
    try:
        VersionRange(value)
    except InvalidVersion as err:
        raise ValueError(str(err)) from err
    return value.strip()


def _tags(values: list[str]) -> list[str]:
    out: list[str] = []
    for raw in values:
        tag = raw.strip().lower()
        if not _TAG.match(tag):
            raise ValueError(
                f"tag {raw!r} is not valid: use up to 50 lowercase letters, digits and - + . #, "
                "for example 'rag' or 'icd-10'"
            )
        if tag not in out:
            out.append(tag)
    return out


def _sentence(value: str) -> str:
    text = value.strip()
    if text.lower() in _PLACEHOLDERS or len(text.split()) < 4 or len(text) < 20:
        raise ValueError(
            f"{value!r} is not a real answer: write at least one full sentence (4+ words) saying what is in place"
        )
    return text


Slug = Annotated[str, AfterValidator(_slug)]
SemVer = Annotated[str, AfterValidator(_semver)]
Range = Annotated[str, AfterValidator(_range)]
Text = Annotated[str, Field(min_length=1, max_length=20_000)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(single_line)]
Sentence = Annotated[str, AfterValidator(_sentence)]
Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000), AfterValidator(single_line)]


class Actor(BaseModel):
    """Who acts: a token's name and team, or the system (seeding, admin CLI)."""

    name: str
    team: str
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    @property
    def label(self) -> str:
        return f"{self.team}/{self.name}"

    def may_act_for(self, team: str) -> bool:
        return self.is_admin or self.team == team


SYSTEM = Actor(name="system", team="platform", scopes=frozenset({"admin"}))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Open(BaseModel):
    """Specs keep keys they do not know (teams add their own), but validate the ones they do.

    Text is kept exactly as written: prompt whitespace is content.
    """

    model_config = ConfigDict(extra="allow")


# ---------------------------------------------------------------------------------------------- specs


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant", "tool"]
    content: Text


class ModelRef(_Open):
    provider: Name
    name: Name
    parameters: dict[str, Any] = Field(default_factory=dict)


def template_variables(text: str, template_format: str) -> set[str]:
    """The variable names a template uses, found by each format's own parser where there is one."""
    if template_format == "jinja2":
        try:
            return set(
                jinja2.meta.find_undeclared_variables(
                    jinja2.Environment().parse(text)  # noqa: S701 (parsed for its variable names, never rendered)
                )
            )
        except jinja2.TemplateSyntaxError as err:
            raise ValueError(f"the jinja2 template does not parse (line {err.lineno}): {err.message}") from err
    if template_format == "f-string":
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as err:
            raise ValueError(f"the f-string template does not parse: {err}; write literal braces as {{{{ }}}}") from err
        names = {re.split(r"[.\[]", f, maxsplit=1)[0] for f in fields}
        if "" in names:
            raise ValueError("the f-string template has an empty {} field; name every field, e.g. {question}")
        return names
    return _mustache_variables(text)


_MUSTACHE_TAG = re.compile(r"\{\{(\{?)\s*([#^/!>&=]?)\s*([^}]*?)\s*\}?\}\}")


def _mustache_variables(text: str) -> set[str]:
    """Top-level names of a mustache template; names inside a section belong to the section's items."""
    names: set[str] = set()
    open_sections: list[str] = []
    for m in _MUSTACHE_TAG.finditer(text):
        sigil, name = m.group(2), m.group(3)
        if sigil in {"!", ">", "="} or name == ".":
            continue
        root = name.split(".", 1)[0]
        if sigil in {"#", "^"}:
            if not open_sections:
                names.add(root)
            open_sections.append(name)
        elif sigil == "/":
            if not open_sections or open_sections[-1] != name:
                raise ValueError(
                    f"the mustache section {{{{/{name}}}}} closes a section that is not open; "
                    "close sections in the order they were opened"
                )
            open_sections.pop()
        elif not open_sections:
            names.add(root)
    if open_sections:
        raise ValueError(
            f"the mustache section {{{{#{open_sections[-1]}}}}} is never closed; add {{{{/{open_sections[-1]}}}}}"
        )
    return names


class PromptSpec(_Open):
    template: str | None = Field(default=None, max_length=100_000)
    messages: list[ChatMessage] | None = None
    template_format: Literal["mustache", "jinja2", "f-string"] = "mustache"
    variables: list[str] = Field(default_factory=list)
    model: ModelRef | None = None
    output_schema: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _check_variables(self) -> PromptSpec:
        if (self.template is None) == (self.messages is None):
            raise ValueError("give exactly one of `template` (text) or `messages` ([{role, content}])")
        if self.template is not None and not self.template.strip():
            raise ValueError("`template` is empty; put the prompt text in it")
        if self.messages is not None and not self.messages:
            raise ValueError("`messages` is empty; add at least one {role, content}")
        bad = [v for v in self.variables if not _IDENT.match(v)]
        if bad:
            raise ValueError(f"variable names {bad} are not identifiers; use letters, digits and _")
        texts = [self.template] if self.template is not None else [m.content for m in self.messages or []]
        used: set[str] = set()
        for text in texts:
            used |= template_variables(text, self.template_format)
        declared = set(self.variables)
        problems = []
        if used - declared:
            problems.append(
                f"the template uses {sorted(used - declared)} but `variables` does not declare them; "
                "add them to `variables`"
            )
        if declared - used:
            problems.append(
                f"`variables` declares {sorted(declared - used)} but the template never uses them; "
                f"remove them or use them in the template ({self.template_format} syntax)"
            )
        if problems:
            raise ValueError("; ".join(problems))
        if self.output_schema is not None and not (
            {"type", "$ref", "properties", "oneOf", "anyOf"} & set(self.output_schema)
        ):
            raise ValueError("`output_schema` must be a JSON Schema object, e.g. {type: object, properties: {...}}")
        return self


class Metric(_Open):
    name: Name
    threshold: float
    higher_is_better: bool = True


class Dataset(_Open):
    uri: Name
    rows: int | None = Field(default=None, ge=0)
    description: str = ""


class Runner(_Open):
    type: Literal["promptfoo", "lm-eval", "python", "other"]
    entry: Name


class EvalHarnessSpec(_Open):
    metrics: list[Metric] = Field(min_length=1)
    dataset: Dataset
    targets: list[str] = Field(default_factory=list)
    runner: Runner
    baseline_results: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_metrics(self) -> EvalHarnessSpec:
        names = [m.name for m in self.metrics]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"metric names must be unique; {dupes} appear more than once")
        unknown = sorted(set(self.baseline_results) - set(names))
        if unknown:
            raise ValueError(
                f"`baseline_results` has {unknown}, which are not among the metrics {names}; "
                "report results only for declared metrics"
            )
        return self


class Component(_Open):
    name: Name
    type: Name
    params: dict[str, Any] = Field(default_factory=dict)


class Chunking(_Open):
    size: int = Field(gt=0)
    overlap: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Chunking:
        if self.overlap >= self.size:
            raise ValueError(f"chunk overlap ({self.overlap}) must be smaller than the chunk size ({self.size})")
        return self


class Embedder(_Open):
    model: Name
    dimensions: int = Field(gt=0)


class Retriever(_Open):
    k: int = Field(gt=0, le=1000)
    hybrid_weights: dict[str, float] | None = None


class Reranker(_Open):
    model: Name
    top_k: int | None = Field(default=None, gt=0)


class RetrievalPipelineSpec(_Open):
    framework: Literal["haystack", "llamaindex", "langchain", "custom"]
    components: list[Component] = Field(min_length=1)
    chunking: Chunking | None = None
    embedder: Embedder | None = None
    retriever: Retriever | None = None
    reranker: Reranker | None = None
    results: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_components(self) -> RetrievalPipelineSpec:
        names = [c.name for c in self.components]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"component names must be unique; {dupes} appear more than once")
        return self


class Condition(_Open):
    op: Literal[">", ">=", "<", "<=", "==", "!="]
    threshold: float
    window: str

    @model_validator(mode="after")
    def _window_is_duration(self) -> Condition:
        if not _DURATION.match(self.window):
            raise ValueError(f"window {self.window!r} is not a duration; use e.g. '5m', '1h' or '1h30m'")
        return self


class MonitorSpec(_Open):
    signal: Name
    condition: Condition
    severity: Literal["info", "warning", "critical"]
    runbook_url: Url | None = None
    format: Literal["prometheus", "grafana", "other"] = "other"


# ------------------------------------------------------------------------------------------- manifest


class SourceRef(_Model):
    repo: Name
    commit: Annotated[str, AfterValidator(single_line)] | None = Field(default=None, max_length=64)
    path: Annotated[str, AfterValidator(single_line)] | None = Field(default=None, max_length=500)


class Dependency(_Model):
    slug: Slug
    version: Range = "*"


class AttachedFile(BaseModel):
    """A native file stored with the version, byte for byte: UTF-8 text, or base64 for binary content."""

    model_config = ConfigDict(extra="forbid")

    path: Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^/\\][^\\]*$"), AfterValidator(single_line)]
    content: str = Field(max_length=5_000_000)
    encoding: Literal["utf-8", "base64"] = "utf-8"

    @model_validator(mode="after")
    def _safe_path(self) -> AttachedFile:
        if ".." in self.path.split("/"):
            raise ValueError(f"file path {self.path!r} climbs out of the asset folder; use a relative path inside it")
        return self


class _ManifestBase(_Model):
    slug: Slug
    version: SemVer
    title: Annotated[str, Field(min_length=3, max_length=200), AfterValidator(single_line)]
    summary: Annotated[str, Field(min_length=10, max_length=500)]
    description: str = Field(default="", max_length=50_000)
    tags: Annotated[list[str], AfterValidator(_tags)] = Field(default_factory=list, max_length=30)
    owner: Slug
    origin_pilot: Slug
    source: SourceRef | None = None
    depends_on: list[Dependency] = Field(default_factory=list, max_length=100)
    changelog: str = Field(default="", max_length=20_000)
    files: list[AttachedFile] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _unique_files_and_deps(self) -> _ManifestBase:
        paths = [f.path for f in self.files]
        if len(paths) != len(set(paths)):
            raise ValueError("two attached files have the same path; each file needs its own path")
        slugs = [d.slug for d in self.depends_on]
        if self.slug in slugs:
            raise ValueError("an asset cannot depend on itself; remove it from `depends_on`")
        if len(slugs) != len(set(slugs)):
            raise ValueError("`depends_on` names an asset twice; give one range per asset, e.g. '>=1.0,<2'")
        return self


class PromptManifest(_ManifestBase):
    kind: Literal["prompt"]
    spec: PromptSpec


class EvalHarnessManifest(_ManifestBase):
    kind: Literal["eval_harness"]
    spec: EvalHarnessSpec


class RetrievalPipelineManifest(_ManifestBase):
    kind: Literal["retrieval_pipeline"]
    spec: RetrievalPipelineSpec


class MonitorManifest(_ManifestBase):
    kind: Literal["monitor"]
    spec: MonitorSpec


Manifest = Annotated[
    PromptManifest | EvalHarnessManifest | RetrievalPipelineManifest | MonitorManifest,
    Field(discriminator="kind"),
]
_MANIFEST = TypeAdapter[Manifest](Manifest)

_FIXES = {
    "missing": "add this field",
    "extra_forbidden": "remove this field or check its spelling",
    "string_too_short": "give a longer value",
    "string_too_long": "shorten it",
    "too_short": "add at least one item",
    "int_parsing": "give a whole number",
    "float_parsing": "give a number",
    "bool_parsing": "give true or false",
    "literal_error": "use one of the allowed values",
    "union_tag_invalid": "set `kind` to the kind of asset this is",
    "union_tag_not_found": "add `kind`",
    "string_pattern_mismatch": "match the pattern shown",
}


def problems_from(err: ValidationError, *, prefix: str = "", strip_tags: bool = True) -> list[FieldProblem]:
    """Turn pydantic errors into field problems with JSON pointers (union tags taken out of the path)."""
    out = []
    for e in err.errors(include_url=False):
        loc = [str(p) for p in e["loc"]]
        if strip_tags and loc and loc[0] in KINDS:
            loc = loc[1:]
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] in {"union_tag_invalid", "union_tag_not_found"}:
            loc = [*loc, "kind"]
            message = f"`kind` must be one of {', '.join(KINDS)}"
        pointer = prefix + "/" + "/".join(loc) if loc else prefix or "/"
        out.append(FieldProblem(pointer=pointer, detail=message, fix=_FIXES.get(e["type"], "")))
    return out


def parse_manifest(data: Any) -> PromptManifest | EvalHarnessManifest | RetrievalPipelineManifest | MonitorManifest:
    """Validate a manifest; raise InvalidInput listing every problem with its field."""
    if not isinstance(data, dict):
        raise InvalidInput("the manifest must be a mapping of fields", [FieldProblem("/", "not an object")])
    try:
        return _MANIFEST.validate_python(data)
    except ValidationError as err:
        problems = problems_from(err)
        raise InvalidInput(
            f"the manifest of {data.get('slug', '?')}@{data.get('version', '?')} has "
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''}",
            problems,
            code="invalid-manifest",
        ) from err


# --------------------------------------------------------------------------------------------- pilots


class Measure(_Model):
    metric: Name
    value: float
    unit: Annotated[str, Field(min_length=1, max_length=50), AfterValidator(single_line)]


class MonthlyValue(_Model):
    amount: float = Field(ge=0)
    unit: Literal["hours", "usd"]


class PilotRequest(_Model):
    slug: Slug
    name: Name
    team: Slug
    budget_owner: Name | None = None
    problem: Text
    baseline: Measure | None = None
    target: Measure | None = None
    value_per_month: MonthlyValue | None = None


class PilotUpdate(_Model):
    """Fields a team fills in while framing the problem (before gate 1); all optional."""

    name: Name | None = None
    budget_owner: Name | None = Field(default=None, description="null clears it")
    problem: Text | None = None
    baseline: Measure | None = Field(default=None, description="null clears it")
    target: Measure | None = Field(default=None, description="null clears it")
    value_per_month: MonthlyValue | None = Field(default=None, description="null clears it")

    @field_validator("name", "problem", mode="before")
    @classmethod
    def _required_stay_set(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise ValueError(f"a pilot always has a {info.field_name}; give a new one, or leave the field out")
        return value


class GateRequest(_Model):
    stage: int = Field(ge=1, le=4, description="the gate being decided: the pilot's current stage (1-4)")
    decision: Literal["commit", "iterate", "kill"]
    decided_by: Name
    notes: str = Field(default="", max_length=20_000)
    evidence_url: Url | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)


class PrototypeEvidence(_Model):
    """Gate 2: the real metric the prototype moved on a real workflow."""

    metric: Name
    before: float
    after: float
    workflow: Sentence


class ReadinessEvidence(_Model):
    """Gate 3, the production readiness review: each answer a real sentence."""

    slo: Sentence
    data_lineage: Sentence
    incident_response: Sentence
    cost_controls: Sentence
    rollback_plan: Sentence


class AdoptionEvidence(_Model):
    """Gate 4: who uses it, how often, and where the stage-1 metric stands now."""

    active_users: int = Field(ge=1)
    usage_frequency: Name
    metric_value: float


GATE_EVIDENCE: dict[int, type[_Model]] = {2: PrototypeEvidence, 3: ReadinessEvidence, 4: AdoptionEvidence}


# ------------------------------------------------------------------------------------------ adoptions


class AdoptionRequest(_Model):
    asset: Slug
    version: str | None = Field(
        default=None,
        max_length=100,
        description="an exact version, a label such as `production`, or empty for the latest",
    )
    pilot: Slug
    mode: Literal["as_is", "adapted", "forked"] = "as_is"
    hours_saved: float = Field(default=0.0, ge=0, le=100_000)
    note: str = Field(default="", max_length=5000)
    on_behalf_of: Name | None = Field(
        default=None, description="who the adoption was recorded for (a note); the token is who recorded it"
    )

    adopted_by: SkipJsonSchema[Any] = Field(default=None, exclude=True)

    @field_validator("adopted_by", mode="before")
    @classmethod
    def _adopted_by_is_the_token(cls, value: Any) -> None:
        raise PydanticCustomError(
            "adopted_by_not_accepted",
            "`adopted_by` is the identity of the token that records the adoption and cannot be set; "
            "name the person or group it was for in `on_behalf_of`",
        )


class RetireRequest(_Model):
    reason: str = Field(default="", max_length=5000)


class YankRequest(_Model):
    reason: Annotated[str, Field(min_length=3, max_length=5000)]


class DeprecateRequest(_Model):
    reason: Annotated[str, Field(min_length=3, max_length=5000)]
    successor: Slug | None = None


class LabelRequest(_Model):
    version: SemVer


class TokenRequest(_Model):
    name: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(single_line)]
    team: Slug
    scopes: list[Scope] = Field(min_length=1)


def utc(dt: datetime) -> datetime:
    """Piccolo returns naive datetimes from SQLite; the catalog speaks UTC-aware ones everywhere."""
    from datetime import UTC

    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


# ------------------------------------------------------------------------------------ what reads return


class GateOut(BaseModel):
    stage: int
    decision: str
    decided_by: str
    notes: str
    evidence_url: str | None
    evidence: dict[str, Any]
    decided_at: datetime


class AssetRef(BaseModel):
    slug: str
    kind: str
    title: str
    latest_version: str | None
    lifecycle: str


class AdoptedRef(BaseModel):
    adoption_id: int
    asset: str
    kind: str
    version: str
    mode: str
    adopted_at: datetime
    active: bool


class DownstreamReuse(BaseModel):
    assets_reused: int = Field(description="its assets with an active adoption by another pilot")
    adopting_pilots: list[str] = Field(description="other pilots actively using any of its assets")
    active_adoptions: int
    hours_saved: float = Field(description="hours those adoptions declared (first adoption per pilot and asset)")


class PilotOut(BaseModel):
    slug: str
    name: str
    team: str
    budget_owner: str | None
    problem: str
    baseline: Measure | None
    target: Measure | None
    value_per_month: MonthlyValue | None
    stage: int
    status: Literal["active", "graduated", "killed"]
    created_at: datetime
    graduated_at: datetime | None
    gates: list[GateOut] = Field(default_factory=list)
    published_assets: list[AssetRef] = Field(default_factory=list)
    adopted_assets: list[AdoptedRef] = Field(default_factory=list)
    downstream: DownstreamReuse | None = Field(default=None, description="how far this pilot's work compounded")


class PilotPage(BaseModel):
    total: int
    items: list[PilotOut]


class PilotRef(BaseModel):
    slug: str
    name: str
    team: str
    status: str


class VersionSummary(BaseModel):
    version: str
    content_digest: str
    published_by: str
    published_at: datetime
    changelog: str
    yanked: bool
    yanked_reason: str | None


class LabelOut(BaseModel):
    name: str
    version: str
    moved_by: str
    moved_at: datetime


class AssetOut(BaseModel):
    slug: str
    kind: str
    title: str
    summary: str
    description: str
    tags: list[str]
    owner: str
    origin_pilot: PilotRef
    lifecycle: Literal["active", "deprecated"]
    successor: str | None
    deprecation_reason: str | None
    latest_version: str | None
    created_at: datetime
    updated_at: datetime
    reuse_count: int = Field(description="pilots other than the origin with an active adoption")
    adoptions: int = Field(description="active adoptions, the origin pilot's own excluded")
    adopting_pilots: list[str] = Field(default_factory=list)
    versions: list[VersionSummary] = Field(default_factory=list)
    labels: list[LabelOut] = Field(default_factory=list)


class AssetPage(BaseModel):
    total: int
    items: list[AssetOut]


class FileOut(BaseModel):
    path: str
    size: int
    sha256: str
    content: str
    encoding: Literal["utf-8", "base64"] = "utf-8"


class ResolvedDependency(BaseModel):
    slug: str
    range: str
    resolved: str


class VersionOut(VersionSummary):
    asset: str
    kind: str
    spec: dict[str, Any]
    manifest: dict[str, Any]
    source: dict[str, Any] | None
    depends_on: list[ResolvedDependency]
    yanked_at: datetime | None
    files: list[FileOut]


class PublishResult(BaseModel):
    status: Literal["created", "unchanged"]
    asset: str
    version: str
    content_digest: str
    warnings: list[str] = Field(default_factory=list)


class AdoptionOut(BaseModel):
    id: int
    asset: str
    kind: str
    version: str
    pilot: str
    origin_pilot: str
    mode: str
    hours_saved: float
    note: str
    adopted_by: str = Field(description="the token that recorded it: team/name")
    on_behalf_of: str | None = None
    adopted_at: datetime
    retired_at: datetime | None
    retire_reason: str | None
    active: bool
    warnings: list[str] = Field(default_factory=list)


class AdoptionPage(BaseModel):
    total: int
    items: list[AdoptionOut]


class TokenOut(BaseModel):
    id: int
    name: str
    team: str
    scopes: list[str]
    prefix: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewToken(TokenOut):
    token: str = Field(description="shown once; only its hash is stored")


# ------------------------------------------------------------------------------- what search is fed


class AssetDocument(BaseModel):
    """What the search index needs of one asset: its latest non-yanked version and its reuse."""

    slug: str
    kind: str
    title: str
    summary: str
    description: str
    tags: list[str]
    owner: str
    origin_pilot: str
    origin_pilot_name: str
    origin_pilot_problem: str = ""
    lifecycle: str
    successor: str | None
    latest_version: str
    spec: dict[str, Any]
    reuse_count: int
    published_at: datetime


# ------------------------------------------------------------------------------------ the reuse report


class ReportPeriod(BaseModel):
    since: datetime = Field(description="inclusive, UTC")
    until: datetime = Field(description="exclusive, UTC")


class ReuseSummary(BaseModel):
    assets_available: int = Field(description="assets published before `until` with a version not yanked by then")
    assets_published: int = Field(description="assets whose first version was published in the period")
    assets_reused: int = Field(description="available assets with an adoption active during the period")
    reuse_rate: float = Field(description="assets_reused / assets_available")
    adoptions: int = Field(description="first adoptions of an asset by a pilot, in the period")
    adopting_pilots: int = Field(description="pilots with at least one such adoption in the period")
    hours_saved: float = Field(description="hours saved those adoptions declared")
    pilots_created: int
    started_with_catalog: int = Field(description="pilots created in the period that adopted within 30 days")
    started_with_catalog_share: float


class MonthFigures(BaseModel):
    month: str
    adoptions: int
    hours_saved: float


class KindFigures(BaseModel):
    kind: str
    assets_available: int
    assets_published: int
    assets_reused: int
    reuse_rate: float
    adoptions: int
    hours_saved: float


class AssetFigures(BaseModel):
    slug: str
    kind: str
    title: str
    owner: str
    origin_pilot: str
    adoptions: int = Field(description="first adoptions in the period")
    active_pilots: int = Field(description="pilots with an adoption active during the period")
    hours_saved: float


class OriginPilotFigures(BaseModel):
    pilot: str
    name: str
    team: str
    assets_available: int
    assets_reused: int
    downstream_pilots: int = Field(description="other pilots using any of its assets during the period")
    adoptions: int
    hours_saved: float


class TeamFigures(BaseModel):
    team: str
    assets_available: int
    assets_reused: int
    adoptions_received: int
    hours_saved: float
    adoptions_made: int = Field(description="first adoptions by the team's own pilots in the period")


class StaleAsset(BaseModel):
    slug: str
    kind: str
    title: str
    owner: str
    origin_pilot: str
    lifecycle: str
    first_published_at: datetime
    days_since_published: int


class AtRiskAdoption(BaseModel):
    adoption_id: int
    pilot: str
    asset: str
    version: str
    reason: Literal["deprecated", "yanked", "deprecated and yanked"]
    successor: str | None
    move_to: str | None = Field(description="the successor asset, or the version to move to")
    adopted_at: datetime


class DemandQuery(BaseModel):
    query: str
    searches: int
    last_searched_at: datetime


class ReuseReport(BaseModel):
    period: ReportPeriod
    summary: ReuseSummary
    adoptions_per_month: list[MonthFigures]
    by_kind: list[KindFigures]
    by_asset: list[AssetFigures]
    by_origin_pilot: list[OriginPilotFigures]
    by_team: list[TeamFigures]
    stale: list[StaleAsset]
    stale_total: int
    at_risk: list[AtRiskAdoption]
    at_risk_total: int
    demand: list[DemandQuery]
