"""What the embedded index holds: its fields, how much each weighs in ranking, and an asset as a document."""

from __future__ import annotations

import tantivy

from catalog.schemas import AssetDocument
from search.analysis import STEMS, WORDS
from search.documents import index_fields

__all__ = ["KEYWORDS", "LISTS", "LOOSE_FIELDS", "PHRASE_FIELDS", "SCHEMA", "STEM_FIELDS", "WORD_FIELDS", "document"]

# Field weights: title and tags above summary above description above spec text.
WORD_FIELDS = {
    "title": 4.0,
    "tags_text": 4.0,
    "slug_text": 3.0,
    "summary": 2.0,
    "people": 1.0,
    "description": 1.0,
    "spec_text": 0.5,
    "roles_text": 1.0,  # the words of its task patterns and risks: "extraction" finds what extracts fields
    "context": 0.5,  # the origin pilot's problem statement: what the asset was built to solve
}
STEM_FIELDS = {"title_stem": 4.0, "tags_stem": 4.0, "summary_stem": 2.0, "description_stem": 1.0}
# Prefix matching (as you type) runs on the title and on `vocab`, one field holding the words of title, tags,
# summary and description; typo matching on `vocab` alone (automata are the costly part of a query).
LOOSE_FIELDS = {"title": 4.0, "vocab": 2.0}
PHRASE_FIELDS = ("title", "tags_text", "summary", "description", "context")
KEYWORDS = ("slug", "kind", "owner", "origin_pilot", "lifecycle", "tags", "patterns", "risks")
LISTS = ("tags", "patterns", "risks")  # keyword fields holding several values


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in KEYWORDS:
        sb.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    for name in ("title", "summary", "description"):
        sb.add_text_field(name, stored=True, tokenizer_name=WORDS)
    for name in ("tags_text", "slug_text", "people", "spec_text", "roles_text", "context", "vocab"):
        sb.add_text_field(name, tokenizer_name=WORDS)
    for name in STEM_FIELDS:
        sb.add_text_field(name, tokenizer_name=STEMS, index_option="freq")
    for name in ("latest_version", "origin_pilot_name", "successor"):
        sb.add_text_field(name, stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field("reuse_count", stored=True, fast=True, indexed=True)
    sb.add_integer_field("published_at", stored=True, fast=True, indexed=True)
    sb.add_unsigned_field("deprecated", fast=True)
    return sb.build()


SCHEMA = _schema()


def document(doc: AssetDocument) -> tantivy.Document:
    f = index_fields(doc)
    text = {
        **{k: f[k] for k in ("slug", "kind", "owner", "origin_pilot", "lifecycle", "title", "summary", "description")},
        "tags": f["tags"],
        "patterns": f["patterns"],
        "risks": f["risks"],
        "roles_text": f["roles_text"],
        "tags_text": " ".join(f["tags"]),
        "slug_text": f["slug"].replace("-", " "),
        "people": f"{f['owner']} {f['origin_pilot']} {f['origin_pilot_name']}",
        "spec_text": f["spec_text"],
        "context": f["origin_pilot_problem"],
        # the dictionary typo corrections are looked up in
        "vocab": " ".join([f["title"], *f["tags"], f["slug"], f["summary"], f["description"], f["origin_pilot_name"]]),
        "title_stem": f["title"],
        "tags_stem": " ".join(f["tags"]),
        "summary_stem": f["summary"],
        "description_stem": f["description"],
        "latest_version": f["latest_version"],
        "origin_pilot_name": f["origin_pilot_name"],
        "successor": f["successor"] or "",
        "reuse_count": f["reuse_count"],
        "published_at": f["published_at"],
        "deprecated": int(f["lifecycle"] == "deprecated"),
    }
    return tantivy.Document.from_dict(text, SCHEMA)
