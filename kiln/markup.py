"""Markdown -> HTML fragment and headings, with the site's links made right on the way."""

from __future__ import annotations

import xml.etree.ElementTree as etree
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from .urls import Urls, slugify

EXTENSIONS = ("tables", "fenced_code", "footnotes", "attr_list", "def_list", "abbr", "toc")
SAFE_SCHEMES = ("http", "https", "mailto", "tel")


@dataclass(frozen=True)
class Heading:
    """A heading of a page's body, for its table of contents and for link checks."""

    level: int
    id: str
    title: str


@dataclass(frozen=True)
class Rendered:
    """What a markdown body becomes."""

    html: str
    headings: tuple[Heading, ...]
    bad_links: tuple[str, ...]


class _Links(Treeprocessor):
    """Gives site-relative links the base path, marks outside links noopener, drops unsafe schemes."""

    def __init__(self, md: markdown.Markdown, urls: Urls) -> None:
        super().__init__(md)
        self.urls = urls
        self.bad: list[str] = []

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None:
                    self._fix(element, attribute, value)

    def _fix(self, element: etree.Element, attribute: str, value: str) -> None:
        scheme = urlsplit(value.strip()).scheme.lower()
        if scheme and scheme not in SAFE_SCHEMES:
            self.bad.append(value)
            del element.attrib[attribute]
        elif value.startswith("/") and not value.startswith("//"):
            element.set(attribute, self.urls.path(value))
        elif scheme in ("http", "https") or value.startswith("//"):
            if attribute == "href":
                element.set("rel", "noopener")


class _LinkExtension(Extension):
    def __init__(self, urls: Urls) -> None:
        super().__init__()
        self.urls = urls
        self.processor: _Links | None = None

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        self.processor = _Links(md, self.urls)
        # After inline patterns (priority 20) have made the links, before the prettifier.
        md.treeprocessors.register(self.processor, "kiln_links", 15)


def _heading_id(value: str, separator: str) -> str:
    """Return the id a heading gets: the same slug rules as file names."""
    return slugify(value) or "section"


class Markup:
    """One reusable Markdown converter; reusing it is much faster than making one per page."""

    def __init__(self, urls: Urls) -> None:
        self._links = _LinkExtension(urls)
        configs: dict[str, dict[str, Any]] = {"toc": {"slugify": _heading_id, "toc_depth": "2-6"}}
        self._md = markdown.Markdown(
            extensions=[*EXTENSIONS, self._links], extension_configs=configs, output_format="html"
        )

    def render(self, text: str) -> Rendered:
        """Return the HTML fragment, headings and refused links of one markdown body."""
        assert self._links.processor is not None
        self._md.reset()
        self._links.processor.bad = []
        html = self._md.convert(text)
        tokens: list[dict[str, Any]] = getattr(self._md, "toc_tokens", [])
        return Rendered(html, tuple(_flatten(tokens)), tuple(self._links.processor.bad))


def _flatten(tokens: list[dict[str, Any]]) -> list[Heading]:
    """Return the nested toc tokens as a flat list, in document order."""
    headings: list[Heading] = []
    for token in tokens:
        headings.append(Heading(int(token["level"]), str(token["id"]), str(token["name"])))
        headings.extend(_flatten(token.get("children", [])))
    return headings
