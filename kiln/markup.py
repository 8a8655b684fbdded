"""Markdown -> HTML fragment and headings, with the site's links made right on the way."""

from __future__ import annotations

import html
import math
import re
import time
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import markdown
from markdown import util
from markdown.extensions import Extension
from markdown.extensions.toc import remove_fnrefs, render_inner_html, strip_tags
from markdown.treeprocessors import InlineProcessor, Treeprocessor

from .urls import Urls, slugify, split_url

EXTENSIONS = ("tables", "fenced_code", "footnotes", "attr_list", "def_list", "abbr", "toc")
SAFE_SCHEMES = ("http", "https", "mailto", "tel")
# Python-Markdown recurses once per level of list nesting and is quadratic in some shapes (thousands of
# unclosed `[` in one paragraph): refuse the first, stop the second after a time budget, instead of hanging.
MAX_NESTING = 32
MAX_HEADINGS = 2000  # toc makes duplicate heading ids unique in quadratic time
MAX_TAG_SCAN = 20_000_000  # characters the raw-HTML parser would scan for `>` after each `<a`, summed
RENDER_SECONDS = 5.0
_HEADING = re.compile(r"^#{1,6}(?:[ \t]|$)", re.M)
_TAG_START = re.compile(r"<[A-Za-z]")
_FENCE = re.compile(r"[ \t]*(```|~~~)")
_NESTING = re.compile(r"([ \t]*)((?:(?:>|[-*+]|[0-9]{1,9}[.)])(?:[ \t]+|$))*)")
_MARKER = re.compile(r">|[-*+]|[0-9]{1,9}[.)]")
_DEEP = re.compile(rf"\n[ \t>*+\-0-9.)]{{{MAX_NESTING + 1}}}")  # a literal first: much faster than ^ with re.M
# What a text must hold for an inline pattern or a tree stage to find anything (any one of the strings). A stage
# whose strings are all absent from a body is left out of its conversion, and an inline pattern is skipped again
# for each piece of text that lacks them (_TrimmedInline): the output is the same and Markdown takes about 40%
# less time, since most bodies have no code, images, raw HTML, entities or attribute lists, and most paragraphs
# no link. Text reaches the patterns only from the body (tabs become spaces, hence the tab for line breaks);
# names not listed here always run. tests/test_fuzz.py checks the output against untrimmed Markdown.
NEEDS: dict[str, tuple[str, ...]] = {
    "backtick": ("`",),
    "escape": ("\\",),
    "footnote": ("[^",),  # the inline pattern and the tree stage of that name
    "reference": ("[",),
    "link": ("[",),
    "short_reference": ("[",),
    "image_link": ("![",),
    "image_reference": ("![",),
    "short_image_ref": ("![",),
    "autolink": ("<",),
    "automail": ("<",),
    "html": ("<",),
    "entity": ("&",),
    "linebreak": ("  \n", "\t"),
    "em_strong": ("*", "_"),
    "attr_list": ("{",),  # a tree stage
    "kiln_headings": ("#", "="),  # ours: only a body with an h1 (`# x`, or a line of `=` under one) needs it
}
TOC_MARKER = "[TOC]"


@dataclass(frozen=True)
class Unrenderable(Exception):
    """Markdown that would take unbounded time or stack to render: why, and the body line it is on."""

    message: str
    line: int
    hint: str


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
    title: str | None = None  # the text of a leading h1 that was taken out as the page's title
    images: tuple[str, ...] = ()  # the src of each image on this site, as written, in order


def same_title(one: str, other: str) -> bool:
    """Return whether two titles are the same, ignoring letter case, spaces and punctuation."""
    return _letters(one) == _letters(other)


def _letters(text: str) -> str:
    """Return a text's letters and digits only, folded to lower case."""
    return "".join(char for char in text.casefold() if char.isalnum())


class _Headings(Treeprocessor):
    """Fits the body's headings under the page's one h1, which the template prints from the title.

    Writing for other generators often starts with `# The title`, and uses `#` for its sections: a leading h1
    that repeats the title (or stands in for a missing one) is taken out, and when any h1 is left, every heading
    moves down one level, so the page has one h1 and its levels do not skip.
    """

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.title: str | None = None  # the front matter's title; None when it has none
        self.taken: str | None = None  # the text of the leading h1 taken out

    def run(self, root: etree.Element) -> None:
        if len(root) and root[0].tag == "h1":
            text = html.unescape(strip_tags(render_inner_html(remove_fnrefs(root[0]), self.md))).strip()
            if text and (self.title is None or same_title(text, self.title)):
                self.taken = " ".join(text.split())
                root.remove(root[0])
        if next(root.iter("h1"), None) is not None:
            for element in root.iter():
                if element.tag in _LOWER:
                    element.tag = _LOWER[element.tag]


_LOWER = {f"h{level}": f"h{level + 1}" for level in range(1, 6)}  # an h6 stays one: there is no h7


class _Links(Treeprocessor):
    """Gives site-relative links the base path, marks outside links noopener, drops unsafe schemes."""

    def __init__(self, md: markdown.Markdown, urls: Urls) -> None:
        super().__init__(md)
        self.urls = urls
        self.bad: list[str] = []
        self.images: list[str] = []

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None:
                    self._fix(element, attribute, value)

    def _fix(self, element: etree.Element, attribute: str, value: str) -> None:
        parts = split_url(value.strip())
        scheme = parts.scheme.lower() if parts is not None else ""
        if parts is None or (scheme and scheme not in SAFE_SCHEMES):
            self.bad.append(value)
            del element.attrib[attribute]
            return
        if element.tag == "img" and attribute == "src" and not scheme and not parts.netloc:
            self.images.append(value)  # images.py makes it a <picture>, or says what is wrong with it
        if value.startswith("/") and not value.startswith("//"):
            element.set(attribute, self.urls.path(value))
        elif scheme in ("http", "https") or value.startswith("//"):
            if attribute == "href":
                element.set("rel", "noopener")


class _LinkExtension(Extension):
    def __init__(self, urls: Urls) -> None:
        super().__init__()
        self.urls = urls
        self.processor: _Links | None = None
        self.headings: _Headings | None = None

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        self.processor = _Links(md, self.urls)
        # After inline patterns (priority 20) have made the links, before the prettifier.
        md.treeprocessors.register(self.processor, "kiln_links", 15)
        # After attr_list (8) has set ids, before toc (5) lists the headings at their final levels.
        self.headings = _Headings(md)
        md.treeprocessors.register(self.headings, "kiln_headings", 7)


class _Clock:
    """The moment, in processor time spent by this thread, the conversion in progress must be done by.

    Reading the thread's processor time is a system call (about 0.5 µs; the monotonic clock takes 0.1 µs), and
    the check runs before every pattern and block stage: a thousand pages made a cold build 0.6 s of processor
    time slower. A thread cannot have used more processor time than has passed, so the processor time is read
    only once the same budget of monotonic time is spent.
    """

    def __init__(self) -> None:
        self.deadline = math.inf  # in this thread's processor time
        self.wall = math.inf  # the same budget in monotonic time: before it, the deadline cannot have passed

    def start(self, seconds: float) -> None:
        """Begin a conversion that may take this much of the thread's processor time."""
        self.deadline, self.wall = time.thread_time() + seconds, time.monotonic() + seconds

    def stop(self) -> None:
        """End the conversion: nothing is timed until the next starts."""
        self.deadline = self.wall = math.inf

    def check(self) -> None:
        """Raise Unrenderable once the deadline has passed."""
        if time.monotonic() > self.wall and time.thread_time() > self.deadline:
            raise Unrenderable(
                f"the text takes more than {RENDER_SECONDS:g} s to render",
                1,
                "it holds a shape Markdown renders very slowly, such as thousands of unclosed [ or < "
                "in one paragraph; split it into paragraphs or put it in a code block",
            )

    def timed(self, method: Callable[..., Any]) -> Callable[..., Any]:
        """Return the method, checking the deadline before each call."""

        def call(*args: Any, **kwargs: Any) -> Any:
            self.check()
            return method(*args, **kwargs)

        return call


def nesting(text: str) -> tuple[int, int]:
    """Return the deepest nesting of lists and block quotes in markdown, and the 1-based line it is on."""
    deepest, where, fenced = 0, 1, False
    for number, line in enumerate(text.split("\n"), start=1):
        if _FENCE.match(line):
            fenced = not fenced
        if fenced:
            continue
        match = _NESTING.match(line)
        assert match is not None  # the pattern matches the empty string
        depth = len(match.group(1).expandtabs(4)) // 4 + len(_MARKER.findall(match.group(2)))
        if depth > deepest:
            deepest, where = depth, number
    return deepest, where


def refusal(text: str) -> Unrenderable | None:
    """Return why a markdown body would take unbounded time or stack to render, or None."""
    # Each level of nesting takes at least one character before a line's text, and each heading a line that
    # starts with #: most bodies are far from both limits and skip the exact counts.
    depth, line = nesting(text) if _DEEP.search("\n" + text) else (0, 0)
    if depth > MAX_NESTING:
        return Unrenderable(
            f"lists or block quotes are nested {depth} levels deep", line, f"expected at most {MAX_NESTING} levels"
        )
    headings = len(_HEADING.findall(text)) if ("\n" + text).count("\n#") > MAX_HEADINGS else 0
    if headings > MAX_HEADINGS:
        return Unrenderable(f"the text has {headings} headings", 1, f"expected at most {MAX_HEADINGS}")
    scan, line = _tag_scan(text)
    if scan > MAX_TAG_SCAN:
        return Unrenderable(
            "the text has many `<` that start an HTML tag and are never closed with `>`",
            line,
            "write `&lt;` for a `<` that is not a tag, or put the text in a code block",
        )
    return None


def _tag_scan(text: str) -> tuple[int, int]:
    """Return how far the raw-HTML parser scans for the `>` after each tag start, summed, and the worst line."""
    total, worst, where = 0, -1, 0
    closing = -1
    for match in _TAG_START.finditer(text):
        start = match.start()
        if closing < start:
            closing = text.find(">", start)
            closing = len(text) if closing < 0 else closing
        total += closing - start
        if closing - start > worst:
            worst, where = closing - start, start
    return total, text.count("\n", 0, where) + 1


def _heading_id(value: str, separator: str) -> str:
    """Return the id a heading gets: the same slug rules as file names."""
    return slugify(value) or "section"


class _TrimmedInline(InlineProcessor):
    """Markdown's inline stage, which also skips a pattern for each piece of text that lacks what it needs.

    A paragraph without `[` is not searched for links, nor one without `*` or `_` for emphasis. Text only
    loses characters as patterns match (they become placeholders), so a pattern skipped for lack of its
    characters could not have matched later either. The loop is Markdown's own (InlineProcessor's private
    __handleInline, which this overrides; tests/test_fuzz.py holds the output to untrimmed Markdown's).
    """

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.needs: list[tuple[str, ...] | None] = []  # for each of inlinePatterns

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if isinstance(data, util.AtomicString):
            return data
        start = 0
        count = len(self.inlinePatterns)
        while patternIndex < count:
            needs = self.needs[patternIndex]
            if needs is not None and not any(text in data for text in needs):
                patternIndex, start = patternIndex + 1, 0  # as for a pattern that did not match
                continue
            data, matched, start = self._InlineProcessor__applyPattern(  # type: ignore[attr-defined]
                self.inlinePatterns[patternIndex], data, patternIndex, start
            )
            if not matched:
                patternIndex += 1
        return data


class Markup:
    """One reusable Markdown converter; reusing it is much faster than making one per page."""

    def __init__(self, urls: Urls, trim: bool = True) -> None:
        self._links = _LinkExtension(urls)
        self._md = markdown.Markdown(extensions=[*_extensions(), self._links], output_format="html")
        self._clock = _Clock()
        for processor in self._md.inlinePatterns:
            processor.handleMatch = self._clock.timed(processor.handleMatch)  # type: ignore[method-assign]
        for block in self._md.parser.blockprocessors:
            block.run = self._clock.timed(block.run)  # type: ignore[method-assign]
        for stage in (*self._md.preprocessors, *self._md.postprocessors):
            stage.run = self._clock.timed(stage.run)
        self._inline = _TrimmedInline(self._md)
        if trim:  # the same place and priority as Markdown's own inline stage, which this one replaces
            self._md.treeprocessors.register(self._inline, "inline", 20)
        self._patterns = [(pattern, _needs(self._md.inlinePatterns, pattern)) for pattern in self._md.inlinePatterns]
        self._toc = self._md.treeprocessors["toc"]
        self._body = ""
        self._trims = trim  # False only to check that trimming changes nothing
        for stage in self._md.treeprocessors:
            stage.run = self._gated(stage.run, _needs(self._md.treeprocessors, stage))  # type: ignore[method-assign]

    def _gated(self, run: Callable[..., Any], needs: tuple[str, ...] | None) -> Callable[..., Any]:
        """Return a tree stage's run, skipped for bodies that hold none of what it needs, and deadline-checked."""
        timed = self._clock.timed(run)
        if needs is None or not self._trims:
            return timed

        def call(*args: Any, **kwargs: Any) -> Any:
            return timed(*args, **kwargs) if any(text in self._body for text in needs) else None

        return call

    def _trim(self, body: str) -> None:
        """Leave out of the next conversion every inline pattern and tree stage the body cannot trigger."""
        # as Markdown's first step does: the characters it keeps for itself go, and every line ends in \n
        text = body.replace(util.STX, "").replace(util.ETX, "").replace("\r\n", "\n").replace("\r", "\n")
        self._body = text
        kept = [(pattern, needs) for pattern, needs in self._patterns if needs is None or any(n in text for n in needs)]
        # a list indexes faster than the Registry it stands in for (the smarty extension swaps it the same way)
        self._inline.inlinePatterns = [pattern for pattern, _ in kept]  # type: ignore[assignment]
        self._inline.needs = [needs for _, needs in kept]
        self._toc.marker = TOC_MARKER if TOC_MARKER in text else ""  # type: ignore[attr-defined]

    def render(self, text: str, title: str | None = None) -> Rendered:
        """Return the HTML fragment, headings and refused links of one markdown body; raise Unrenderable.

        A leading h1 equal to `title` (or any leading h1 when `title` is None) is taken out and returned as
        the Rendered's title; the other headings move down a level while an h1 is left.
        """
        assert self._links.processor is not None and self._links.headings is not None
        if refused := refusal(text):
            raise refused
        self._md.reset()
        if self._trims:
            self._trim(text)
        self._links.processor.bad = []
        self._links.headings.title, self._links.headings.taken = title, None
        self._links.processor.images = []
        # the time this thread spends rendering, not the time that passes: a loaded machine refuses nothing more
        self._clock.start(RENDER_SECONDS)
        try:
            output = self._md.convert(text)
        except RecursionError:
            raise Unrenderable(
                "the text is nested too deeply to render",
                1,
                "expected fewer levels of emphasis, links, lists or quotes inside each other",
            ) from None
        finally:
            self._clock.stop()
        tokens: list[dict[str, Any]] = getattr(self._md, "toc_tokens", [])
        processor = self._links.processor
        return Rendered(
            output,
            tuple(_flatten(tokens)),
            tuple(processor.bad),
            title=self._links.headings.taken,
            images=tuple(processor.images),
        )


def _extensions() -> list[Extension]:
    """Return EXTENSIONS, made here: by name, Markdown looks each up among every installed package's entry points,
    which took longer than making the converter (~25 ms in a fresh process, ~1.3 ms after)."""
    from markdown.extensions.abbr import AbbrExtension
    from markdown.extensions.attr_list import AttrListExtension
    from markdown.extensions.def_list import DefListExtension
    from markdown.extensions.fenced_code import FencedCodeExtension
    from markdown.extensions.footnotes import FootnoteExtension
    from markdown.extensions.tables import TableExtension
    from markdown.extensions.toc import TocExtension

    made = {
        "tables": TableExtension(),
        "fenced_code": FencedCodeExtension(),
        "footnotes": FootnoteExtension(),
        "attr_list": AttrListExtension(),
        "def_list": DefListExtension(),
        "abbr": AbbrExtension(),
        "toc": TocExtension(slugify=_heading_id, toc_depth="2-6"),
    }
    return [made[name] for name in EXTENSIONS]


def _needs(registry: markdown.util.Registry[Any], item: object) -> tuple[str, ...] | None:
    """Return what a body must hold for a registered pattern or stage to act, or None if it may always act."""
    for name, needs in NEEDS.items():
        if name in registry and registry[name] is item:
            return needs
    return None


def _flatten(tokens: list[dict[str, Any]]) -> list[Heading]:
    """Return the nested toc tokens as a flat list, in document order."""
    headings: list[Heading] = []
    for token in tokens:
        headings.append(Heading(int(token["level"]), str(token["id"]), str(token["name"])))
        headings.extend(_flatten(token.get("children", [])))
    return headings
