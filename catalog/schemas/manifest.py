"""The manifest (`asset.yaml`): common fields, attached files, dependencies, discriminated on `kind`."""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from catalog.errors import FieldProblem, InvalidInput
from catalog.filepaths import path_clash, path_problem
from catalog.inputs import single_line
from catalog.schemas.common import (
    KINDS,
    Name,
    Range,
    SemVer,
    Slug,
    StrictModel,
    examples,
    normalize_tags,
    problems_from,
)
from catalog.schemas.specs import EvalHarnessSpec, MonitorSpec, PromptSpec, RetrievalPipelineSpec
from catalog.vocabulary import PATTERNS, RISKS, known_ids

__all__ = [
    "AttachedFile",
    "Dependency",
    "EvalHarnessManifest",
    "Manifest",
    "MonitorManifest",
    "PromptManifest",
    "RetrievalPipelineManifest",
    "SourceRef",
    "parse_manifest",
]


class SourceRef(StrictModel):
    repo: Name
    """where the asset's source lives (a URL or repository name)"""
    commit: Annotated[str, AfterValidator(single_line)] | None = Field(default=None, max_length=64)
    """the commit it was published from"""
    path: Annotated[str, AfterValidator(single_line)] | None = Field(default=None, max_length=500)
    """the folder or file inside the repository"""


class Dependency(StrictModel):
    slug: Slug
    """the asset depended on"""
    version: Range = "*"
    """a semantic version range, e.g. >=1.0,<2 or ^1.2 (default: any)"""


def _file_path(path: str) -> str:
    if problem := path_problem(path):
        raise ValueError(f"the file path {path!r} {problem}")
    return path


def _one_folder(files: list[AttachedFile]) -> list[AttachedFile]:
    if clash := path_clash([f.path for f in files]):
        raise ValueError(f"file {clash[0]}: {clash[1]}")
    return files


class AttachedFile(BaseModel):
    """A native file stored with the version, byte for byte: UTF-8 text, or base64 for binary content."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    path: Annotated[str, Field(min_length=1, max_length=500), AfterValidator(single_line), AfterValidator(_file_path)]
    """the file's path inside the asset folder, e.g. promptfooconfig.yaml (relative, `/` between folders)"""
    content: str = Field(max_length=5_000_000)
    """the file itself: UTF-8 text, or base64"""
    encoding: Literal["utf-8", "base64"] = "utf-8"
    """utf-8 (text) or base64 (binary, or text with control characters)"""


def _patterns(values: list[str]) -> list[str]:
    return known_ids(values, PATTERNS, "task pattern")


def _risks(values: list[str]) -> list[str]:
    return known_ids(values, RISKS, "risk")


class _ManifestBase(StrictModel):
    slug: Slug
    """the asset's unique name: 2-63 lowercase letters, digits and hyphens"""
    version: SemVer
    """a semantic version such as 1.2.0; published versions never change"""
    title: Annotated[str, Field(min_length=3, max_length=200), AfterValidator(single_line)]
    """a human title"""
    summary: Annotated[str, Field(min_length=10, max_length=500)]
    """one sentence: what it does"""
    description: str = Field(default="", max_length=50_000)
    """Markdown: what it does, when to use it, known limits"""
    tags: Annotated[list[str], AfterValidator(normalize_tags)] = Field(default_factory=list, max_length=30)
    """lowercase words to find and filter it by"""
    patterns: Annotated[list[str], AfterValidator(_patterns)] | None = Field(default=None, max_length=20)
    """the task patterns it serves (GET /api/v1/vocabulary lists them); unset: read from its content"""
    risks: Annotated[list[str], AfterValidator(_risks)] | None = Field(default=None, max_length=20)
    """the risks it covers (GET /api/v1/vocabulary lists them); unset: read from its content"""
    owner: Slug
    """the team that owns and curates it"""
    origin_pilot: Slug
    """the graduated pilot (of the owning team) it came from"""
    source: SourceRef | None = None
    """where its source lives"""
    depends_on: list[Dependency] = Field(default_factory=list, max_length=100)
    """assets it needs, each with a version range"""
    changelog: str = Field(default="", max_length=20_000)
    """what changed in this version"""
    files: Annotated[list[AttachedFile], AfterValidator(_one_folder)] = Field(default_factory=list, max_length=200)
    """native files stored with the version, byte for byte"""

    @model_validator(mode="after")
    def _dependencies_once(self) -> _ManifestBase:
        slugs = [d.slug for d in self.depends_on]
        if self.slug in slugs:
            raise ValueError("an asset cannot depend on itself; remove it from `depends_on`")
        if len(slugs) != len(set(slugs)):
            raise ValueError("`depends_on` names an asset twice; give one range per asset, e.g. '>=1.0,<2'")
        return self


class PromptManifest(_ManifestBase):
    model_config = ConfigDict(json_schema_extra=examples({
        "kind": "prompt", "slug": "claims-triage-prompt", "version": "1.1.0", "title": "Claims triage prompt",
        "summary": "Classifies a claim into a category and an urgency.", "tags": ["claims", "triage"],
        "owner": "claims-ai", "origin_pilot": "claims-triage-assistant",
        "spec": {"template": "Categories: {{categories}}\n\nClaim:\n{{claim_text}}",
                 "variables": ["categories", "claim_text"]},
        "files": [{"path": "prompt.txt", "content": "Categories: {{categories}}"}],
    }))  # fmt: skip

    kind: Literal["prompt"]
    """what kind of asset this is"""
    spec: PromptSpec
    """the prompt itself"""


class EvalHarnessManifest(_ManifestBase):
    kind: Literal["eval_harness"]
    """what kind of asset this is"""
    spec: EvalHarnessSpec
    """the eval harness itself"""


class RetrievalPipelineManifest(_ManifestBase):
    kind: Literal["retrieval_pipeline"]
    """what kind of asset this is"""
    spec: RetrievalPipelineSpec
    """the retrieval pipeline itself"""


class MonitorManifest(_ManifestBase):
    kind: Literal["monitor"]
    """what kind of asset this is"""
    spec: MonitorSpec
    """the monitor itself"""


Manifest = Annotated[
    PromptManifest | EvalHarnessManifest | RetrievalPipelineManifest | MonitorManifest,
    Field(discriminator="kind"),
]


_MANIFEST = TypeAdapter[Manifest](Manifest)


def _kind_problem(kind: Any) -> FieldProblem:
    close = difflib.get_close_matches(str(kind), KINDS, n=1) if kind is not None else []
    allowed = f"`kind` must be one of {', '.join(KINDS)}"
    return FieldProblem(
        "/kind",
        f"{kind!r} is not a kind: {allowed}" if kind is not None else f"is missing: {allowed}",
        f"did you mean {close[0]}?" if close else "set `kind` to the kind of asset this is",
    )


def _other_problems(data: dict[str, Any]) -> list[FieldProblem]:
    """The problems of every field but `kind` and the kind-specific `spec`."""
    try:
        PromptManifest.model_validate({**data, "kind": "prompt", "spec": {"template": "x"}})
    except ValidationError as err:
        return [p for p in problems_from(err) if not p.pointer.startswith(("/spec", "/kind"))]
    return []


def parse_manifest(data: Any) -> PromptManifest | EvalHarnessManifest | RetrievalPipelineManifest | MonitorManifest:
    """Validate a manifest; raise InvalidInput listing every problem with its field."""
    if not isinstance(data, dict):
        raise InvalidInput(
            "the manifest must be a mapping of fields",
            [FieldProblem("/", "not an object", "send the manifest fields as one JSON object")],
        )
    try:
        return _MANIFEST.validate_python(data)
    except ValidationError as err:
        problems = problems_from(err)
        if data.get("kind") not in KINDS:  # say what else is wrong too, as far as any kind would see it
            problems = [_kind_problem(data.get("kind")), *_other_problems(data)]
        raise InvalidInput(
            f"the manifest of {data.get('slug', '?')}@{data.get('version', '?')} has "
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''}",
            problems,
            code="invalid-manifest",
        ) from err
