"""What history reads return: journal entries, label moves and time travel, version diffs, webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "FileDiff",
    "JournalEntryOut",
    "JournalPage",
    "LabelAt",
    "LabelMove",
    "TemplateLine",
    "ValueChange",
    "VersionDiff",
]


class JournalEntryOut(BaseModel):
    id: int = Field(description="increases with every change; the cursor pages by it")
    at: datetime
    actor: str = Field(description="the token that made the change: team/name (`platform/system` for the registry)")
    action: str = Field(examples=["label.move"])
    subject: str = Field(examples=["asset:claims-triage-prompt@1.1.0"])
    asset: str | None = None
    pilot: str | None = Field(default=None, description="the pilot the change concerns")
    team: str | None = Field(default=None, description="the team owning the subject")
    detail: dict[str, Any] = Field(description="what changed (before/after where it applies)")


class JournalPage(BaseModel):
    items: list[JournalEntryOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next (older) page; null on the last page")


class LabelMove(BaseModel):
    label: str
    action: Literal["move", "remove"]
    from_version: str | None = Field(description="where the label pointed before (null: it was new)")
    to_version: str | None = Field(description="where it points after (null: it was removed)")
    moved_by: str
    moved_at: datetime
    reason: str = ""
    journal_id: int


class LabelAt(BaseModel):
    asset: str
    label: str
    at: datetime | None = Field(description="the time asked about (null: now)")
    version: str
    moved_by: str
    moved_at: datetime
    reason: str = ""


class ValueChange(BaseModel):
    pointer: str = Field(description="JSON pointer of the value in the manifest", examples=["/spec/variables"])
    change: Literal["added", "removed", "changed"]
    before: Any = None
    after: Any = None


class FileDiff(BaseModel):
    path: str
    change: Literal["added", "removed", "changed", "unchanged"]
    binary: bool = False
    before_sha256: str | None = None
    after_sha256: str | None = None
    unified: str = Field(default="", description="a unified diff of the text (empty for binary files)")


class TemplateLine(BaseModel):
    op: Literal[" ", "+", "-"] = Field(description="unchanged, added in `to`, removed from `from`")
    text: str
    variables: list[str] = Field(default_factory=list, description="template variables used on this line")


class VersionDiff(BaseModel):
    asset: str
    kind: str
    from_version: str
    to_version: str
    identical: bool
    breaking: list[str] = Field(description="changes that break users: variables, output schema, metrics, ...")
    changes: list[ValueChange] = Field(description="every changed manifest value (fields and spec)")
    template: list[TemplateLine] | None = Field(
        default=None, description="prompts: the template (or messages) diffed by line, with the variables of each line"
    )
    variables_added: list[str] = Field(default_factory=list)
    variables_removed: list[str] = Field(default_factory=list)
    files: list[FileDiff]
    notes: list[str] = Field(
        default_factory=list, description="what was too large to compare line by line, and how it is shown instead"
    )
