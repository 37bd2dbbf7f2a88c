"""Asset descriptions are Markdown written by teams: rendered to HTML that cannot run anything.

Two layers: markdown-it leaves raw HTML as text and refuses `javascript:`-style links, and nh3 (the Rust
`ammonia` sanitizer) keeps only a fixed set of tags, attributes and URL schemes of whatever comes out.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

__all__ = ["render_markdown"]

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote", "ul", "ol",
         "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del"}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str) -> Markup:
    """Safe HTML for a Markdown text: links open no scripts, raw HTML shows as text."""
    html = _PARSER.render(text or "")
    clean = nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                      link_rel="noopener noreferrer nofollow")  # fmt: skip
    return Markup(clean)  # noqa: S704 (sanitized just above)
