"""Rendered markdown -> HTML that only keeps an allow-list of tags, attributes and URL schemes (nh3)."""

from __future__ import annotations

import re

import nh3

# Everything Python-Markdown and its extensions (tables, footnotes, toc, def_list, abbr, fenced_code, attr_list)
# make, plus the plain formatting tags a writer may type as HTML. No script, style, iframe, object, embed, form.
TAGS = frozenset(
    {
        *("p", "br", "hr", "div", "span", "blockquote", "pre", "code", "kbd", "samp", "var"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd"),
        *("a", "img", "figure", "figcaption", "abbr", "sup", "sub", "em", "strong", "b", "i", "u", "s"),
        *("del", "ins", "mark", "small", "cite", "q", "dfn", "time", "details", "summary"),
        *("table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td"),
    }
)
# `style` is kept only where the tables extension writes its own column alignment (see _keep).
ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href", "rel", "hreflang"},
    "img": {"src", "alt", "width", "height", "loading"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "th": {"colspan", "rowspan", "scope", "style", "align"},
    "td": {"colspan", "rowspan", "style", "align"},
    "col": {"span"},
    "time": {"datetime"},
    "q": {"cite"},
    "blockquote": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
}
SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_ALIGNMENT = re.compile(r"text-align: (?:left|right|center);")


def _keep(tag: str, attribute: str, value: str) -> str | None:
    """Return an attribute's value if the allow-list keeps it: styles only as the tables extension writes them."""
    if attribute == "style":
        return value if _ALIGNMENT.fullmatch(value) else None
    return value


# Made once: building the allow-list took a fifth of each call's time when passed to nh3.clean.
_CLEANER = nh3.Cleaner(
    tags=set(TAGS),
    attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
    attribute_filter=_keep,
    url_schemes=set(SCHEMES),
    link_rel=None,  # markup.py already marks outside links rel="noopener"; leave the writer's rel alone
    strip_comments=True,
)


def needs_sanitizing(markdown: str) -> bool:
    """Return whether the HTML a markdown body renders to may hold anything the allow-list would remove.

    Markdown writes raw HTML only from a `<` (tags, comments, autolinks) and attributes of the writer's choosing
    only from a `{` (attribute lists). Everything else it makes is on the allow-list, its text and attributes
    escaped, and markup.py refuses unsafe link schemes; the sanitiser also drops NUL characters. A body with none
    of these comes out of the sanitiser as it went in, but for how some characters are escaped (tests/test_fuzz.py
    holds it to that), so a build skips the call for it: a tenth of the time a page takes to parse.
    """
    return "<" in markdown or "{" in markdown or "\x00" in markdown


def sanitize(html: str) -> str:
    """Return the HTML with every tag, attribute and URL scheme outside the allow-list removed."""
    return _CLEANER.clean(html)
