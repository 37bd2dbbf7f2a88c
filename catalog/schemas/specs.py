"""The kind-specific `spec` of each manifest: prompt, eval harness, retrieval pipeline, monitor.

Every validator message says what is wrong *and* how to fix it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from catalog.inputs import single_line
from catalog.schemas.common import Name, OpenModel, Text, Url
from catalog.templates import TemplateFormat, template_variables

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DURATION = re.compile(r"([0-9]+(ms|s|m|h|d|w|y))+\Z")

__all__ = [
    "ChatMessage",
    "Chunking",
    "Component",
    "Condition",
    "Dataset",
    "Embedder",
    "EvalHarnessSpec",
    "Metric",
    "ModelRef",
    "MonitorSpec",
    "PromptSpec",
    "Reranker",
    "RetrievalPipelineSpec",
    "Retriever",
    "Runner",
    "template_variables",
]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    role: Literal["system", "user", "assistant", "tool"]
    """who speaks"""
    content: Text
    """the message template"""


class ModelRef(OpenModel):
    provider: Name
    """the model provider, e.g. openai"""
    name: Name
    """the model, e.g. gpt-4o-mini"""
    parameters: dict[str, Any] = Field(default_factory=dict)
    """sampling parameters, e.g. {\"temperature\": 0}"""


MAX_PROMPT_CHARS = 100_000  # a template, or all of a prompt's messages together


class PromptSpec(OpenModel):
    template: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS)
    """the prompt template (or give `messages`)"""
    messages: list[ChatMessage] | None = None
    """a chat prompt: role and content templates"""
    template_format: TemplateFormat = "mustache"
    """how variables are written: mustache {{x}}, jinja2, f-string {x}, ..."""
    variables: list[str] = Field(default_factory=list)
    """the variables the template uses (must match the template)"""
    model: ModelRef | None = None
    """the model it was tuned for"""
    output_schema: dict[str, Any] | None = None
    """JSON Schema of the answer it asks for"""

    @model_validator(mode="after")
    def _check_variables(self) -> PromptSpec:
        if (self.template is None) == (self.messages is None):
            raise ValueError("give exactly one of `template` (text) or `messages` ([{role, content}])")
        if self.template is not None and not self.template.strip():
            raise ValueError("`template` is empty; put the prompt text in it")
        if self.messages is not None and not self.messages:
            raise ValueError("`messages` is empty; add at least one {role, content}")
        if self.messages is not None and (size := sum(len(m.content) for m in self.messages)) > MAX_PROMPT_CHARS:
            raise ValueError(  # as for `template`: parsing a prompt's templates costs time in proportion to them
                f"`messages` hold {size:,} characters in all; a prompt holds at most {MAX_PROMPT_CHARS:,}"
            )
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


class Metric(OpenModel):
    name: Name
    """the metric, e.g. faithfulness"""
    threshold: float
    """the value a target must reach"""
    higher_is_better: bool = True
    """false when lower values are better (error rates)"""


class Dataset(OpenModel):
    uri: Name
    """where the dataset lives"""
    rows: int | None = Field(default=None, ge=0)
    """how many cases it holds"""
    description: str = ""
    """what the cases are"""


class Runner(OpenModel):
    type: Literal["promptfoo", "lm-eval", "python", "other"]
    """what runs it"""
    entry: Name
    """the attached file the runner starts from"""


class EvalHarnessSpec(OpenModel):
    metrics: list[Metric] = Field(min_length=1)
    """what it measures, each with a threshold"""
    dataset: Dataset
    """the cases it runs"""
    targets: list[str] = Field(default_factory=list)
    """asset kinds or slugs it evaluates"""
    runner: Runner
    """how to run it"""
    baseline_results: dict[str, float] = Field(default_factory=dict)
    """what the origin pilot scored, by metric"""

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


class Component(OpenModel):
    name: Name
    """the component's name in the pipeline"""
    type: Name
    """its class or type"""
    params: dict[str, Any] = Field(default_factory=dict)
    """its parameters"""


class Chunking(OpenModel):
    size: int = Field(gt=0)
    """chunk size (tokens or characters, as the framework counts)"""
    overlap: int = Field(default=0, ge=0)
    """overlap between chunks"""

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Chunking:
        if self.overlap >= self.size:
            raise ValueError(f"chunk overlap ({self.overlap}) must be smaller than the chunk size ({self.size})")
        return self


class Embedder(OpenModel):
    model: Name
    """the embedding model"""
    dimensions: int = Field(gt=0)
    """the vector size"""


class Retriever(OpenModel):
    k: int = Field(gt=0, le=1000)
    """how many passages it returns"""
    hybrid_weights: dict[str, float] | None = None
    """weights of each retriever in a hybrid, e.g. {\"bm25\": 0.3, \"dense\": 0.7}"""


class Reranker(OpenModel):
    model: Name
    """the reranking model"""
    top_k: int | None = Field(default=None, gt=0)
    """how many passages it keeps"""


class RetrievalPipelineSpec(OpenModel):
    framework: Literal["haystack", "llamaindex", "langchain", "custom"]
    """the framework it is built with"""
    components: list[Component] = Field(min_length=1)
    """the pipeline's components, in order"""
    chunking: Chunking | None = None
    """how documents are split"""
    embedder: Embedder | None = None
    """how chunks are embedded"""
    retriever: Retriever | None = None
    """how passages are retrieved"""
    reranker: Reranker | None = None
    """how passages are reranked"""
    results: dict[str, float] = Field(default_factory=dict)
    """what the origin pilot measured, e.g. {\"recall@8\": 0.92}"""

    @model_validator(mode="after")
    def _unique_components(self) -> RetrievalPipelineSpec:
        names = [c.name for c in self.components]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"component names must be unique; {dupes} appear more than once")
        return self


class Condition(OpenModel):
    op: Literal[">", ">=", "<", "<=", "==", "!="]
    """how the signal compares to the threshold"""
    threshold: float
    """the alerting threshold"""
    window: str
    """over how long, e.g. 5m or 1h"""

    @model_validator(mode="after")
    def _window_is_duration(self) -> Condition:
        if not _DURATION.match(self.window):
            raise ValueError(f"window {self.window!r} is not a duration; use e.g. '5m', '1h' or '1h30m'")
        return self


# A PromQL or SQL expression: one line (the verbatim multi-line text stays in the attached file), often long.
Signal = Annotated[str, Field(min_length=1, max_length=10_000), AfterValidator(single_line)]


class MonitorSpec(OpenModel):
    signal: Signal
    """the metric name or query (PromQL for Prometheus), one line"""
    condition: Condition
    """when it fires"""
    severity: Literal["info", "warning", "critical"]
    """how urgent a firing is"""
    runbook_url: Url | None = None
    """what responders should do"""
    format: Literal["prometheus", "grafana", "other"] = "other"
    """the rule format of its native files"""
