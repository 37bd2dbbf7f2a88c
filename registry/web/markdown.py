"""Asset descriptions are Markdown written by teams: rendered to HTML that cannot run anything.

Two layers: markdown-it leaves raw HTML as text and refuses `javascript:`-style links, and nh3 (the Rust
`ammonia` sanitizer) keeps only a fixed set of tags, attributes and URL schemes of whatever comes out.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import anyio
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

__all__ = ["render_description", "render_markdown"]

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote", "ul", "ol",
         "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del"}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
_KEPT = 256  # rendered descriptions kept: a 50 KB description can take a second to render, and pages repeat
_rendered: OrderedDict[bytes, Markup] = OrderedDict()
_limiter = anyio.CapacityLimiter(2)


def render_markdown(text: str) -> Markup:
    """Safe HTML for a Markdown text: links open no scripts, raw HTML shows as text."""
    html = _PARSER.render(text or "")
    clean = nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                      link_rel="noopener noreferrer nofollow")  # fmt: skip
    return Markup(clean)  # noqa: S704 (sanitized just above)


async def render_description(text: str) -> Markup:
    """`render_markdown` in a worker thread, kept by content: rendering costs grow with hostile input."""
    key = hashlib.sha256(text.encode()).digest()
    if (found := _rendered.get(key)) is not None:
        _rendered.move_to_end(key)
        return found
    html = await anyio.to_thread.run_sync(render_markdown, text, limiter=_limiter)
    _rendered[key] = html
    if len(_rendered) > _KEPT:
        _rendered.popitem(last=False)
    return html
