"""Which variables a prompt template uses, per template syntax, found by parsing and never by rendering.

The catalog checks a prompt's declared `variables` against these sets, and the importers use the same
functions, so an imported prompt is never refused for disagreeing with its own extractor.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable, Iterator
from typing import Any, Literal, get_args

import jinja2
import jinja2.ext
import jinja2.meta
import jinja2.nodes
from jinja2.parser import Parser

__all__ = ["TEMPLATE_FORMATS", "TemplateFormat", "template_variables"]

TemplateFormat = Literal["mustache", "jinja2", "f-string", "handlebars", "haystack-v1"]
TEMPLATE_FORMATS: tuple[TemplateFormat, ...] = get_args(TemplateFormat)


def template_variables(text: str, template_format: str) -> set[str]:
    """The variable names a template uses, found by each format's own parser where there is one."""
    extractor = _EXTRACTORS.get(template_format, _mustache_variables)
    return extractor(text)


class _AnyName(dict[str, Any]):
    """A filter or test table that knows every name: parsing needs the name to exist, not its code."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> Any:
        return super().get(key, _noop)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, _noop)


def _noop(*_args: Any, **_kwargs: Any) -> Any:
    return None


class _MessageTag(jinja2.ext.Extension):
    """Haystack's `{% message role=... %}...{% endmessage %}` block, read for its body's variables."""

    tags = {"message"}

    def parse(self, parser: Parser) -> jinja2.nodes.Node:
        lineno = next(parser.stream).lineno
        while parser.stream.current.type != "block_end":  # the role attributes: literals in practice
            next(parser.stream)
        body = parser.parse_statements(("name:endmessage",), drop_needle=True)
        return jinja2.nodes.Scope(body, lineno=lineno)


def _parse_env() -> jinja2.Environment:
    env = jinja2.Environment(extensions=[_MessageTag])  # noqa: S701 (parsed for variable names, never rendered)
    env.filters = _AnyName(env.filters)  # Nunjucks and lm-eval filters (`dump`, `regex_replace`) parse too
    env.tests = _AnyName(env.tests)
    return env


_JINJA = _parse_env()


def _jinja_variables(text: str) -> set[str]:
    try:
        return set(jinja2.meta.find_undeclared_variables(_JINJA.parse(text)))
    except jinja2.TemplateSyntaxError as err:
        raise ValueError(f"the jinja2 template does not parse (line {err.lineno}): {err.message}") from err


def _fstring_variables(text: str) -> set[str]:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as err:
        raise ValueError(f"the f-string template does not parse: {err}; write literal braces as {{{{ }}}}") from err
    names = {re.split(r"[.\[]", f, maxsplit=1)[0] for f in fields}
    if "" in names:
        raise ValueError("the f-string template has an empty {} field; name every field, e.g. {question}")
    return names


# A tag's body stops at the next brace, so the scan from each `{{` ends there: linear on any input (a lazy
# `[^}]*?` between `\s*` rescanned to the end from every unclosed `{{`: 100 KB of `{{` took minutes).
_MUSTACHE_TAG = re.compile(r"\{\{(\{?)([^{}]*)\}?\}\}")
_MUSTACHE_SIGILS = "#^/!>&="


def _mustache_variables(text: str) -> set[str]:
    """Top-level names of a mustache template; names inside a section belong to the section's items."""
    names: set[str] = set()
    open_sections: list[str] = []
    for m in _MUSTACHE_TAG.finditer(text):
        body = m.group(2).strip()
        sigil = body[0] if body and body[0] in _MUSTACHE_SIGILS else ""
        name = body[len(sigil) :].strip()
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


# Handlebars (Dotprompt): `{{!-- c --}}`, `{{! c }}`, `{{{raw}}}`, `{{#block args}}`, `{{else}}`, `{{/block}}`,
# `{{> partial}}`, `{{helper arg key=value}}`, `{{~trimmed~}}`.
_HB_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|\(|\)|[^\s()]+')
_HB_SCOPING = {"each", "with"}  # blocks whose body reads names of the items, not of the top-level context
_HB_LITERALS = {"true", "false", "null", "undefined", "this", "else"}
# Dotprompt's built-in helpers (js/src/helpers.ts): `{{history}}` or `{{section "x"}}` name a helper, not an input.
_HB_HELPERS = {"history", "role", "media", "section", "json", "ifEquals", "unlessEquals"}


def _hb_root(token: str) -> str | None:
    """The top-level name a Handlebars path expression reads, or None for literals, `this`, `@data`, `../x`."""
    value = token.split("=", 1)[1] if re.match(r"[A-Za-z_][\w-]*=", token) else token
    if not value or value[0] in "\"'@.-0123456789" or value in _HB_LITERALS or value.startswith("this"):
        return None
    root = re.split(r"[./\[]", value, maxsplit=1)[0]
    return root if re.fullmatch(r"[A-Za-z_]\w*", root) else None


def _hb_expression(tokens: list[str]) -> Iterator[str]:
    """Names read by one mustache: `{{name}}` reads name; `{{helper a b=c}}` reads a and c, not helper."""
    words = [t for t in tokens if t not in "()"]
    if words and words[0] in _HB_HELPERS:
        words = ["helper", *words[1:]] if len(words) > 1 else []
    if len(words) == 1:
        root = _hb_root(words[0])
        if root is not None:
            yield root
        return
    callee = True
    for part in tokens:
        if part == "(":
            callee = True
            continue
        if part == ")":
            continue
        if not callee:
            root = _hb_root(part)
            if root is not None:
                yield root
        callee = False


def _hb_tags(text: str) -> Iterator[str]:
    """The bodies of a Handlebars template's tags (`{{!-- --}}` comments left out), in one pass.

    Each close is searched for only when one lies ahead (its last position is known), so no `{{` rescans the
    rest of the text in vain: linear whatever the input.
    """
    last = {"--}}": text.rfind("--}}"), "}}}": text.rfind("}}}"), "}}": text.rfind("}}")}
    at = 0
    while (start := text.find("{{", at)) != -1:
        if start and text[start - 1] == "\\" and (start < 2 or text[start - 2] != "\\"):
            at = start + 2  # `\{{x}}` is written out as is: an escaped mustache reads nothing
            continue
        for opener, closer in (("{{!--", "--}}"), ("{{{", "}}}"), ("{{", "}}")):
            if text.startswith(opener, start) and start + len(opener) <= last[closer]:
                end = text.find(closer, start + len(opener))
                at = end + len(closer)
                if opener != "{{!--":
                    body = text[start + len(opener) : end]
                    yield body.removeprefix("~").removesuffix("~")
                break
        else:
            return


def _handlebars_variables(text: str) -> set[str]:
    """Top-level names of a Handlebars template: helper arguments count, helper names and block-scoped names do not."""
    names: set[str] = set()
    blocks: list[str] = []
    scoping = 0  # open blocks whose body reads the items' names (counted: nesting can be deep)
    for tag in _hb_tags(text):
        body = tag.strip()
        if body.startswith(">"):  # a partial: `{{> style personality=personality}}` passes names it reads
            passed = _HB_TOKEN.findall(body[1:].strip())[1:]
            names.update(_hb_expression(["helper", *passed]) if passed else ())
            continue
        if not body or body[0] == "!":
            continue
        sigil = body[0] if body[0] in "#^/&" else ""
        tokens = _HB_TOKEN.findall(body[len(sigil) :].strip())
        if sigil == "/":
            name = tokens[0] if tokens else ""
            if not blocks or blocks[-1] != name:
                raise ValueError(f"the handlebars block {{{{/{name}}}}} closes a block that is not open")
            scoping -= blocks.pop() in _HB_SCOPING
            continue
        scoped = scoping > 0
        if sigil in {"#", "^"}:
            if not tokens:
                raise ValueError("a handlebars block {{#}} has no name")
            args = tokens[1:] if len(tokens) > 1 else tokens
            if not scoped:
                names.update(_hb_expression(["helper", *args]) if len(tokens) > 1 else _hb_expression(tokens))
            blocks.append(tokens[0])
            scoping += tokens[0] in _HB_SCOPING
            continue
        if tokens and tokens[0] == "else":
            continue
        if not scoped:
            names.update(_hb_expression(tokens))
    if blocks:
        raise ValueError(f"the handlebars block {{{{#{blocks[-1]}}}}} is never closed; add {{{{/{blocks[-1]}}}}}")
    return names


# Haystack 1.x PromptTemplate (deepset PromptHub): fields are Python expressions over an allow-list of functions.
_HAYSTACK_V1_CALLABLES = {"join", "to_strings", "replace", "enumerate", "str", "current_datetime"}
_HAYSTACK_V1_ALIASES = {"new_line", "tab", "double_quote", "carriage_return"}


def _haystack_v1_variables(text: str) -> set[str]:
    """Prompt parameters of a Haystack 1.x template: names in its f-string fields, parsed (never evaluated)."""
    source = text.strip().strip("'\"").replace('"', "'")
    try:
        tree = ast.parse(f'f"""{source}"""', mode="eval")
    except SyntaxError as err:
        raise ValueError(f"the haystack-v1 template does not parse: {err.msg}") from err
    bound = {
        t.id
        for node in ast.walk(tree)
        if isinstance(node, ast.comprehension)
        for t in ast.walk(node.target)
        if isinstance(t, ast.Name)
    }
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return names - bound - _HAYSTACK_V1_CALLABLES - _HAYSTACK_V1_ALIASES


_EXTRACTORS: dict[str, Callable[[str], set[str]]] = {
    "jinja2": _jinja_variables,
    "f-string": _fstring_variables,
    "mustache": _mustache_variables,
    "handlebars": _handlebars_variables,
    "haystack-v1": _haystack_v1_variables,
}
